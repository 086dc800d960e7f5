"""Kazakh individual identification number (IIN), in the style of python-stdnum.

12 digits: YYMMDD birth date, a century/sex digit (1/2 = 1800s, 3/4 = 1900s,
5/6 = 2000s; odd male, even female), a 4-digit serial and a check digit.
The check digit is Σ dᵢ·wᵢ mod 11 with weights 1…11; if that is 10 it is
recomputed with weights 3…11,1,2; if 10 again, the number is never issued.
"""

from __future__ import annotations

import datetime as dt

from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.words import N_, Msg

_W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def compact(number: str) -> str:
    return "".join(str(number).split()).replace("-", "")


def check_digit(first11: str) -> int | None:
    """The check digit for 11 leading digits, or None when no valid number exists."""
    digits = [int(c) for c in first11]
    for weights in (_W1, _W2):
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if rest != 10:
            return rest
    return None


def _check_shape(number: str, field: str) -> str:
    number = compact(number)
    if len(number) != 12:
        raise InvalidIdentifier(field, Msg(N_("must have 12 digits, not %(n)s"), n=len(number)))
    if not number.isdigit():
        raise InvalidIdentifier(field, Msg(N_("must contain digits only")))
    expected = check_digit(number[:11])
    if expected is None:
        raise InvalidIdentifier(field, Msg(N_("is not a number that can be issued (no valid check digit)")))
    if int(number[11]) != expected:
        raise InvalidIdentifier(field, Msg(N_("has a wrong check digit (%(digit)s); check the number"),
                                           digit=number[11]))
    return number


def birth_date(number: str) -> dt.date:
    number = compact(number)
    century = _CENTURY.get(int(number[6]))
    if century is None:
        raise InvalidIdentifier("iin", Msg(N_("the 7th digit (%(digit)s) must be 1–6 (century and sex)"),
                                           digit=number[6]))
    try:
        return dt.date(century + int(number[0:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        raise InvalidIdentifier("iin", Msg(N_("the first six digits (%(digits)s) are not a date of birth"),
                                               digits=number[:6])) from None


def sex(number: str) -> str:
    """'M' or 'F' from the century/sex digit."""
    return "M" if int(compact(number)[6]) % 2 == 1 else "F"


def validate(number: str, field: str = "iin") -> str:
    """Return the compact IIN or raise InvalidIdentifier with a specific reason."""
    number = _check_shape(number, field)
    try:
        birth_date(number)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(field, exc.message) from None
    return number


def is_valid(number: str) -> bool:
    try:
        validate(number)
    except InvalidIdentifier:
        return False
    return True


def make(born: dt.date, sex_code: str, serial: int) -> str | None:
    """Build an IIN (for synthetic data); None when this serial has no valid check digit."""
    century_base = (born.year // 100) * 100
    offset = {1800: 1, 1900: 3, 2000: 5}[century_base]
    sex_digit = offset if sex_code == "M" else offset + 1
    first11 = f"{born:%y%m%d}{sex_digit}{serial % 10000:04d}"
    cd = check_digit(first11)
    return None if cd is None else first11 + str(cd)
