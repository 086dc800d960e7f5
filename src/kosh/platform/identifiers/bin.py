"""Kazakh business identification number (BIN) of an organisation.

12 digits: YYMM of registration, a type digit (4 resident legal entity,
5 non-resident, 6 individual entrepreneur), an attribute digit (0 head office,
1 branch, 2 representative office, 3 joint farm), a 5-digit serial and a check
digit computed exactly as for the IIN.
"""

from __future__ import annotations

from kosh.platform.identifiers import InvalidIdentifier, iin
from kosh.platform.words import N_, Msg

ENTITY_TYPES = {"4": "resident legal entity", "5": "non-resident legal entity", "6": "individual entrepreneur"}
ATTRIBUTES = {"0": "head office", "1": "branch", "2": "representative office", "3": "joint farm"}


def validate(number: str, field: str = "bin") -> str:
    number = iin._check_shape(number, field)
    month = int(number[2:4])
    if not 1 <= month <= 12:
        raise InvalidIdentifier(field, Msg(N_("digits 3–4 (%(digits)s) are not a registration month"),
                                           digits=number[2:4]))
    if number[4] not in ENTITY_TYPES:
        raise InvalidIdentifier(field, Msg(N_("the 5th digit (%(digit)s) is not an entity type (4, 5 or 6)"),
                                           digit=number[4]))
    if number[5] not in ATTRIBUTES:
        raise InvalidIdentifier(field, Msg(N_("the 6th digit (%(digit)s) is not an attribute (0–3)"), digit=number[5]))
    return number


def is_valid(number: str) -> bool:
    try:
        validate(number)
    except InvalidIdentifier:
        return False
    return True


def make(year: int, month: int, entity_type: str, attribute: str, serial: int) -> str | None:
    first11 = f"{year % 100:02d}{month:02d}{entity_type}{attribute}{serial % 100000:05d}"
    cd = iin.check_digit(first11)
    return None if cd is None else first11 + str(cd)
