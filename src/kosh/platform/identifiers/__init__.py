"""National identifiers (stdnum-style: one small module each, `is_valid`/`validate`/`format`) and
the error the pure identity rules raise. In the platform because accounts carry them too: a host
submits as an IIN or a BIN."""


class InvalidIdentifier(ValueError):
    """An identifier (IIN, BIN, MRZ, document number, country code, date) failed validation."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
