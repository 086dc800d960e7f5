"""Errors raised by the pure identity rules; each carries a message fit for a user."""


class InvalidIdentifier(ValueError):
    """An identifier (IIN, BIN, MRZ, document number, country code, date) failed validation."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
