"""Birth dates that may be partial (year only, or year and month).

Documents of migrants often carry an incomplete birth date: ICAO 9303 fills
unknown parts with '<', Russian and Kazakh forms write '00.00.1975', registers
write '1975-00-00'. A `PartialDate` keeps what is known and says which whole
days it may stand for (`earliest()` … `latest()`), so rules never invent a day.

Accepted text forms: 'YYYY-MM-DD', 'YYYY-MM', 'YYYY', with '00' for an unknown
month or day ('YYYY-00-00', 'YYYY-MM-00'), and 'DD.MM.YYYY' (also 'D.M.YYYY'
and '00.MM.YYYY' / '00.00.YYYY').
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache

from kosh.platform.identifiers import InvalidIdentifier
from kosh.platform.words import N_, Msg

MAX_AGE_YEARS = 130

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
@dataclass(frozen=True, order=True)
class PartialDate:
    """A date whose month and day may be unknown; a known day needs a known month.

    Ordering puts an unknown part before any known one, so PartialDate(1990)
    sorts before PartialDate(1990, 1, 1), which matches `earliest()`.
    """

    # Compared first and alone: None cannot be ordered against int, 0 can.
    _sort_key: tuple[int, int, int] = dataclass_field(init=False, repr=False, compare=True)
    year: int = dataclass_field(compare=False)
    month: int | None = dataclass_field(default=None, compare=False)
    day: int | None = dataclass_field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check_parts(self.year, self.month, self.day, "birth_date")
        object.__setattr__(self, "_sort_key", (self.year, self.month or 0, self.day or 0))

    @classmethod
    def from_date(cls, value: dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @property
    def is_complete(self) -> bool:
        return self.day is not None

    def earliest(self) -> dt.date:
        """The first day this date may stand for."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last day this date may stand for."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def isoformat(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def to_date_or_none(self) -> dt.date | None:
        return self.earliest() if self.is_complete else None

    def __str__(self) -> str:
        return self.isoformat()


def _check_parts(year: int, month: int | None, day: int | None, field_name: str) -> None:
    if not 1 <= year <= 9999:
        raise InvalidIdentifier(field_name, Msg(N_("the year %(year)s is not 1–9999"), year=year))
    if month is None:
        if day is not None:
            raise InvalidIdentifier(field_name, Msg(N_("a day (%(day)s) is given but the month is not"), day=day))
        return
    if not 1 <= month <= 12:
        raise InvalidIdentifier(field_name, Msg(N_("the month %(month)s is not 1–12"), month=month))
    if day is None:
        return
    if not 1 <= day <= 31:
        raise InvalidIdentifier(field_name, Msg(N_("the day %(day)s is not 1–31"), day=day))
    if day > calendar.monthrange(year, month)[1]:
        raise InvalidIdentifier(field_name, Msg(N_("%(date)s does not exist"),
                                            date=f"{year:04d}-{month:02d}-{day:02d}"))


def _unknown_as_none(part: str | None) -> int | None:
    # '00' (and an absent part) mean "unknown" in registers and on forms.
    if part is None or int(part) == 0:
        return None
    return int(part)


@lru_cache(maxsize=65536)  # imports parse the same birth dates again and again
def parse(value: str, field: str = "birth_date") -> PartialDate:
    """Read a full or partial date; raise InvalidIdentifier naming what is wrong."""
    text = str(value).strip()
    iso = _ISO.match(text)
    dotted = None if iso else _DOTTED.match(text)
    if iso:
        year_s, month_s, day_s = iso.group(1), iso.group(2), iso.group(3)
    elif dotted:
        day_s, month_s, year_s = dotted.group(1), dotted.group(2), dotted.group(3)
    else:
        raise InvalidIdentifier(
            field, Msg(N_("'%(value)s' is not a date (write YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY)"), value=text))
    year, month, day = int(year_s), _unknown_as_none(month_s), _unknown_as_none(day_s)
    try:
        return PartialDate(year, month, day)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(field, exc.message) from None


def _as_partial(value: str | dt.date | PartialDate, field_name: str) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.datetime):
        return PartialDate.from_date(value.date())
    if isinstance(value, dt.date):
        return PartialDate.from_date(value)
    return parse(value, field_name)


def _years_between(earlier: dt.date, later: dt.date) -> int:
    """Completed years from `earlier` to `later` (an age on a given day)."""
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def validate_birth_date(
    value: str | dt.date | PartialDate,
    today: dt.date | None = None,
    field: str = "birth_date",
) -> PartialDate:
    """A birth date that is not in the future and gives an age of at most 130 years.

    For a partial date the most lenient reading is taken: it is in the future
    only if its first possible day is, and too old only if its last possible
    day is.
    """
    today = today or dt.date.today()
    born = _as_partial(value, field)
    if born.earliest() > today:
        raise InvalidIdentifier(field, Msg(N_("%(date)s is in the future"), date=born.isoformat()))
    age = _years_between(born.latest(), today)
    if age > MAX_AGE_YEARS:
        raise InvalidIdentifier(
            field, Msg(N_("%(date)s gives an age of %(age)s, above %(max)s"), date=born.isoformat(), age=age,
                       max=MAX_AGE_YEARS))
    return born
