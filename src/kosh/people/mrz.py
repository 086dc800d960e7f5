"""ICAO 9303 TD3 machine-readable zone (passports: 2 lines × 44 characters).

Line 1: 1–2 document type ('P' + type or filler), 3–5 issuing state,
6–44 name: SURNAME<<GIVEN<NAMES padded with '<'.
Line 2: 1–9 document number, 10 check; 11–13 nationality; 14–19 birth date
YYMMDD, 20 check; 21 sex; 22–27 expiry YYMMDD, 28 check; 29–42 personal
number, 43 check; 44 composite check over 1–10, 14–20 and 22–43.

Check digits: 0–9 → 0–9, A–Z → 10–35, '<' → 0; weights 7, 3, 1 repeating;
the sum mod 10. Two-digit years are resolved against `today`: a birth date is
never in the future; an expiry lies within 50 years of today.

ICAO equivalences kept on purpose (parsing gives the same data for both):
sex '<' and 'X' (unspecified); the personal-number check digit '<' or '0'
when the personal number is empty.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

from anyascii import anyascii

from kosh.people.countries import from_mrz_code, to_mrz_code
from kosh.people.dates import PartialDate
from kosh.people.names import romanize
from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.words import N_, Msg

LINE_LENGTH = 44
NAME_LENGTH = 39
DOCUMENT_NUMBER_LENGTH = 9
PERSONAL_NUMBER_LENGTH = 14
FILLER = "<"
MRZ_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_WEIGHTS = (7, 3, 1)

# ICAO 9303 Part 3 §6: Latin letters with diacritics that the MRZ writes as two letters.
MRZ_LATIN_TRANSLITERATION: dict[str, str] = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Œ": "OE",
    "Ü": "UE", "ß": "SS", "Þ": "TH", "Ĳ": "IJ",
}
SEX_CODES: dict[str, str] = {"M": "M", "F": "F", "X": "X", "<": "X"}
_SEX_TO_MRZ: dict[str, str] = {"M": "M", "F": "F", "X": "<"}  # '<' is read by every ICAO edition


_NOT_DOC_CHARS = re.compile(r"[\s\-/.]")


def normalize_document_number(number: str) -> str:
    """A travel document number as compared and stored: spaces, dashes, slashes and dots
    dropped, upper case ('fa 123-456' → 'FA123456')."""
    return _NOT_DOC_CHARS.sub("", number).upper()


def _value(char: str) -> int:
    if char in "0123456789":
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise InvalidIdentifier("mrz", Msg(N_("the character '%(char)s' is not allowed in an MRZ (A–Z, 0–9 and <)"),
                                       char=char))


def check_digit(s: str) -> int:
    """ICAO 9303 check digit of a field."""
    return sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(s)) % 10


@dataclass(frozen=True)
class MRZ:
    """The data of a TD3 passport MRZ; country codes are stored ISO alpha-3 ('D' → 'DEU')."""

    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: PartialDate
    sex: str
    expiry: dt.date
    personal_number: str | None = None

    def to_lines(self) -> tuple[str, str]:
        return make_td3(**{f.name: getattr(self, f.name) for f in dataclass_fields(self)})

    def is_expired(self, on: dt.date) -> bool:
        return self.expiry < on


def _fail(message: str) -> InvalidIdentifier:  # a Msg where the text can reach a user (parsing)
    return InvalidIdentifier("mrz", message)


def _check_line(line: str, number: int) -> str:
    line = line.strip()
    if len(line) != LINE_LENGTH:
        raise _fail(Msg(N_("line %(line)s must have %(length)s characters, not %(n)s"), line=number,
                        length=LINE_LENGTH, n=len(line)))
    for position, char in enumerate(line, start=1):
        if char not in MRZ_CHARACTERS:
            raise _fail(Msg(N_("line %(line)s has '%(char)s' at position %(position)s; only A–Z, 0–9 and < "
                               "are allowed"), line=number, char=char, position=position))
    return line


def _verify(label: str, data: str, check_char: str, filler_allowed: bool = False) -> None:
    expected = check_digit(data)
    if check_char == FILLER and filler_allowed:
        check_char = "0"  # ICAO allows '<' for the check digit of an empty personal number
    if not check_char.isdigit():
        raise _fail(Msg(N_("the check digit of the %(part)s ('%(char)s') is not a digit"), part=Msg(label),
                        char=check_char))
    if int(check_char) != expected:
        raise _fail(Msg(N_("the check digit of the %(part)s is wrong: check the lines"), part=Msg(label)))


def _century_birth(yy: int, month: int | None, day: int | None, today: dt.date) -> PartialDate | None:
    """The latest reading of a two-digit year that is not in the future (29 February may rule one out)."""
    this_century = today.year // 100 * 100
    for century in (this_century, this_century - 100):
        try:
            candidate = PartialDate(century + yy, month, day)
        except InvalidIdentifier:
            continue
        if candidate.earliest() <= today:
            return candidate
    return None


def _parse_birth_date(field: str, today: dt.date) -> PartialDate:
    # ICAO fills unknown parts with '<': YYMMDD, YYMM<< or YY<<<<.
    match = re.fullmatch(r"(\d{2})(?:(\d{2})(\d{2}|<<)|<<<<)", field)
    if not match:
        if field == FILLER * 6:
            raise _fail(Msg(N_("the date of birth is missing (all fillers)")))
        raise _fail(Msg(N_("the date of birth %(value)s is not a date"), value=field))
    yy, mm, dd = match.group(1), match.group(2), match.group(3)
    month = int(mm) if mm else None
    day = int(dd) if dd and dd != "<<" else None
    born = _century_birth(int(yy), month, day, today)
    if born is None:
        raise _fail(Msg(N_("the date of birth %(value)s is not a date"), value=field))
    return born


def _parse_expiry(field: str, today: dt.date) -> dt.date:
    if not field.isdigit():
        raise _fail(Msg(N_("the expiry date %(value)s is not a date"), value=field))
    yy, month, day = int(field[:2]), int(field[2:4]), int(field[4:6])
    year = today.year // 100 * 100 + yy
    if year > today.year + 50:
        year -= 100
    elif year < today.year - 50:
        year += 100
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _fail(Msg(N_("the expiry date %(value)s is not a date"), value=field)) from None


def _parse_name(field: str) -> tuple[str, str]:
    if any(c.isdigit() for c in field):
        raise _fail(Msg(N_("the name must not contain digits")))
    body = field.rstrip(FILLER)
    surname, _, given = body.partition(FILLER * 2)
    surname_words = [w for w in surname.split(FILLER) if w]
    if not surname_words:
        raise _fail(Msg(N_("the surname is empty")))
    given_words = [w for w in given.split(FILLER) if w]
    return " ".join(surname_words), " ".join(given_words)


def parse_td3(line1: str, line2: str, today: dt.date | None = None) -> MRZ:
    """Validate and read a TD3 MRZ; raise InvalidIdentifier(field='mrz') naming what is wrong."""
    today = today or dt.date.today()
    line1 = _check_line(line1, 1)
    line2 = _check_line(line2, 2)

    if line1[0] != "P":
        raise _fail(Msg(N_("the document type must start with P for a passport, not '%(value)s'"), value=line1[:2]))
    document_type = line1[:2].rstrip(FILLER)

    _verify(N_("document number"), line2[0:9], line2[9])
    _verify(N_("date of birth"), line2[13:19], line2[19])
    _verify(N_("expiry date"), line2[21:27], line2[27])
    personal_field = line2[28:42]
    _verify(N_("personal number"), personal_field, line2[42], filler_allowed=personal_field == FILLER * 14)
    _verify(N_("whole second line"), line2[0:10] + line2[13:20] + line2[21:43], line2[43])

    document_number = line2[0:9].rstrip(FILLER)
    if not document_number:
        raise _fail(Msg(N_("the document number is empty")))
    sex_char = line2[20]
    if sex_char not in SEX_CODES:
        raise _fail(Msg(N_("the sex '%(value)s' is not M, F, X or <"), value=sex_char))
    surname, given_names = _parse_name(line1[5:44])
    return MRZ(
        document_type=document_type,
        issuing_state=from_mrz_code(line1[2:5], "mrz", N_("issuing state")),
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        nationality=from_mrz_code(line2[10:13], "mrz", N_("nationality")),
        birth_date=_parse_birth_date(line2[13:19], today),
        sex=SEX_CODES[sex_char],
        expiry=_parse_expiry(line2[21:27], today),
        personal_number=personal_field.rstrip(FILLER) or None,
    )


def to_mrz_text(value: str) -> str:
    """Upper-case A–Z with '<' for spaces and hyphens, as the MRZ writes names (apostrophes dropped).

    Cyrillic goes through the ICAO 9303 table, Latin diacritics through ICAO's
    two-letter forms where it has them, anything else through anyascii.
    """
    text = romanize(str(value), "ru").upper()
    text = "".join(MRZ_LATIN_TRANSLITERATION.get(c, c) for c in text)
    text = anyascii(text).upper()
    text = re.sub(r"['`]", "", text)
    return re.sub(r"[^A-Z0-9]+", FILLER, text).strip(FILLER)


def _field(value: str, length: int, label: str) -> str:
    if len(value) > length:
        raise _fail(f"{label} {value} is longer than {length} characters")
    return value.ljust(length, FILLER)


def _birth_field(born: PartialDate | dt.date) -> str:
    if isinstance(born, dt.date):
        born = PartialDate.from_date(born)
    month = f"{born.month:02d}" if born.month else "<<"
    day = f"{born.day:02d}" if born.day else "<<"
    return f"{born.year % 100:02d}{month}{day}"


def make_td3(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    birth_date: PartialDate | dt.date,
    sex: str,
    expiry: dt.date,
    issuing_state: str | None = None,
    document_type: str = "P",
    personal_number: str | None = None,
) -> tuple[str, str]:
    """Build the two lines of a valid TD3 MRZ; names longer than 39 characters are cut."""
    doc_type = to_mrz_text(document_type)
    if not doc_type.startswith("P") or len(doc_type) > 2:
        raise _fail(f"document type must be P or P plus one letter, got '{document_type}'")
    name = to_mrz_text(surname)
    if not name:
        raise _fail("surname is empty")
    if any(c.isdigit() for c in name + to_mrz_text(given_names)):
        raise _fail("names must not contain digits")
    if given_names.strip():
        name += FILLER * 2 + to_mrz_text(given_names)
    issuer = to_mrz_code(issuing_state or nationality)
    line1 = _field(doc_type, 2, "document type") + issuer + name[:NAME_LENGTH].ljust(NAME_LENGTH, FILLER)

    if sex not in _SEX_TO_MRZ:
        raise _fail(f"sex '{sex}' is not M, F or X")
    number = _field(to_mrz_text(document_number), DOCUMENT_NUMBER_LENGTH, "document number")
    personal = _field(to_mrz_text(personal_number or ""), PERSONAL_NUMBER_LENGTH, "personal number")
    birth = _birth_field(birth_date)
    expiry_field = f"{expiry:%y%m%d}"
    personal_check = FILLER if personal == FILLER * PERSONAL_NUMBER_LENGTH else str(check_digit(personal))

    part_number = number + str(check_digit(number))
    part_birth = birth + str(check_digit(birth))
    part_rest = expiry_field + str(check_digit(expiry_field)) + personal + personal_check
    composite = str(check_digit(part_number + part_birth + part_rest))
    line2 = part_number + to_mrz_code(nationality) + part_birth + _SEX_TO_MRZ[sex] + part_rest + composite
    return line1, line2
