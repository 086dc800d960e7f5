"""Pure identity rules of the people capability — one import point for the app.

No I/O, no ORM: identifiers (IIN, BIN, passport MRZ), citizenship codes,
partial birth dates and names across scripts. The modules behind these names
hold the details and the tables.
"""

from __future__ import annotations

from kosh.people.countries import (
    country_name,
    from_mrz_code,
    normalize_country,
    to_mrz_code,
)
from kosh.people.dates import PartialDate, validate_birth_date
from kosh.people.dates import parse as parse_partial_date
from kosh.people.mrz import MRZ, make_td3, normalize_document_number, parse_td3
from kosh.people.mrz import check_digit as mrz_check_digit
from kosh.people.names import (
    detect_script,
    language_for_citizenship,
    name_tokens,
    normalize_name,
    romanize,
    search_key,
)
from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.identifiers import bin as _bin
from kosh.platform.identifiers import iin as _iin

validate_iin = _iin.validate
is_valid_iin = _iin.is_valid
iin_birth_date = _iin.birth_date
iin_sex = _iin.sex
make_iin = _iin.make

validate_bin = _bin.validate
is_valid_bin = _bin.is_valid
make_bin = _bin.make

__all__ = [
    "InvalidIdentifier",
    # IIN / BIN
    "validate_iin",
    "is_valid_iin",
    "iin_birth_date",
    "iin_sex",
    "make_iin",
    "validate_bin",
    "is_valid_bin",
    "make_bin",
    # MRZ
    "MRZ",
    "parse_td3",
    "make_td3",
    "mrz_check_digit",
    "normalize_document_number",
    # countries
    "normalize_country",
    "country_name",
    "from_mrz_code",
    "to_mrz_code",
    # dates
    "PartialDate",
    "parse_partial_date",
    "validate_birth_date",
    # names
    "normalize_name",
    "detect_script",
    "romanize",
    "language_for_citizenship",
    "search_key",
    "name_tokens",
]
