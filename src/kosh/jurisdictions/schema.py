"""The shapes of a jurisdiction pack: TOML file models (validated, extra keys forbidden) and the
runtime objects built from them (WorkingCalendar, StayRule, StayRules, JurisdictionPack).

Nothing here knows a particular country; the values live in `jurisdictions/<code>/*.toml`.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

# The grounds of a stay are data: a pack declares its bases (stay.toml [bases]) and every rule
# version names one of them. The engine reads one basis itself: VISA_REQUIRED, a stay only on a
# visa or residence permit, with no visa-free limits.
VISA_REQUIRED = "visa_required"
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
LOCALE_PATTERN = r"^[a-z]{2,3}$"
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_INDEX = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}

# Ordinals standing for "no start" / "no end" so that range checks stay integer comparisons.
MIN_ORD = dt.date.min.toordinal()
MAX_ORD = dt.date.max.toordinal()


def _custom(message: str) -> PydanticCustomError:
    # Braces would be read as template fields by pydantic-core.
    return PydanticCustomError("pack", message.replace("{", "(").replace("}", ")"))


def check_alpha3(code: str) -> str:
    """An ISO 3166-1 alpha-3 country code in capitals, known to pycountry."""
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise _custom(f"must be an ISO 3166-1 alpha-3 code in capitals (got {code!r})")
    if pycountry.countries.get(alpha_3=code) is None:
        raise _custom(f"unknown ISO 3166-1 alpha-3 code {code!r}")
    return code


Alpha3 = Annotated[str, AfterValidator(check_alpha3)]

# Non-empty lists are checked by the loader, not with min_length: pydantic would add a second,
# misleading length error whenever one item of the list fails.


class _Model(BaseModel):
    # strict: a TOML string "30" is an error, not a silent 30.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SourceRef(_Model):
    """Where a rule comes from: the text read, its publication date when known, and where to read
    it: a web address, or `document`, a file of the repository (path from its root, e.g.
    "docs/sources/retention.md"; a test checks that it exists)."""

    text: str = Field(min_length=1)
    date: dt.date | None = None
    url: str | None = None
    document: str | None = None

    @field_validator("document")
    @classmethod
    def _relative_path(cls, value: str | None) -> str | None:
        if value is not None and (not value or value.startswith("/") or ".." in value.split("/")):
            raise _custom(f"must be a path inside the repository, from its root (got {value!r})")
        return value

    def __str__(self) -> str:
        return f"{self.text} ({self.date.isoformat()})" if self.date else self.text


# --- pack.toml --------------------------------------------------------------------------------


def check_currency(code: str) -> str:
    """An ISO 4217 currency code in capitals, known to pycountry."""
    if not code.isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise _custom(f"unknown ISO 4217 currency code {code!r}")
    return code


Currency = Annotated[str, AfterValidator(check_currency)]


class FineUnitValue(_Model):
    """The value of one fine unit in force on 1 January of `year`, in the unit's currency."""

    year: int = Field(ge=1990, le=2200)
    amount: int = Field(gt=0)


class FineUnit(_Model):
    """The unit a jurisdiction sets fines, fees and taxes in (Kazakhstan: the monthly calculation
    index, MCI), converted at the value in force on 1 January of the year; a year not listed is
    not known to the pack."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    currency: Currency
    source: SourceRef | None = None
    values: tuple[FineUnitValue, ...] = ()

    @field_validator("values")
    @classmethod
    def _years_once(cls, value: tuple[FineUnitValue, ...]) -> tuple[FineUnitValue, ...]:
        years = [v.year for v in value]
        if len(years) != len(set(years)):
            raise _custom("a year is listed twice")
        return value

    def by_year(self) -> dict[int, int]:
        return {v.year: v.amount for v in self.values}


class PackFile(_Model):
    code: str = Field(pattern=r"^[a-z]{2,8}$")
    name: str = Field(min_length=1)
    citizenship: str
    default_locale: str = Field(pattern=LOCALE_PATTERN)
    # The interface languages, in the order the language menu shows them.
    locales: tuple[str, ...]
    # The languages of the public pages (no account), in menu order; empty: the same as `locales`.
    public_locales: tuple[str, ...] = ()
    currency: Currency
    timezone: str = Field(description="IANA zone of local dates: a crossing's day, 'today'")
    fine_unit: FineUnit | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _custom(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("citizenship")
    @classmethod
    def _alpha3(cls, value: str) -> str:
        return check_alpha3(value)

    @field_validator("locales", "public_locales")
    @classmethod
    def _locale_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if re.fullmatch(LOCALE_PATTERN, code) is None:
                raise _custom(f"a locale is 2–3 lower-case letters (got {code!r})")
        if len(set(value)) != len(value):
            raise _custom("a locale is listed twice")
        return value

    @model_validator(mode="after")
    def _locale_listed(self) -> PackFile:
        if self.default_locale not in self.locales:
            raise _custom(f"default_locale {self.default_locale!r} is not in locales {list(self.locales)}")
        return self


# --- regions.toml, checkpoints.toml ------------------------------------------------------------


class Region(_Model):
    """A first-level administrative unit, keyed by the leading two digits of its KATO code.

    `names` holds its name by locale code; the loader checks that every interface language of
    the pack (pack.toml `locales`) has one.
    """

    kato: str = Field(pattern=r"^\d{2}$")
    iso: str = Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
    names: dict[str, str]
    centre: str | None = None

    @field_validator("names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise _custom("must give at least one name")
        for locale, text in value.items():
            if re.fullmatch(LOCALE_PATTERN, locale) is None:
                raise _custom(f"a locale is 2–3 lower-case letters (got {locale!r})")
            if not text.strip():
                raise _custom(f"the {locale!r} name is empty")
        return value

    def __hash__(self) -> int:  # the names dict would make the generated hash fail
        return hash((self.kato, self.iso, tuple(self.names.items()), self.centre))

    def name(self, locale: str = "en") -> str:
        """The name in `locale`; else the English name; else the first name given."""
        found = self.names.get(locale) or self.names.get("en")
        return found if found is not None else next(iter(self.names.values()))

    @property
    def en(self) -> str:
        """The English name (or the fallback of `name`)."""
        return self.name("en")


class RegionsFile(_Model):
    source: str | None = None
    region: tuple[Region, ...] = ()


class Checkpoint(_Model):
    """A border crossing point; `kato` is the 9-digit code of the district it stands in."""

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    name: str = Field(min_length=1)
    kind: Literal["road", "rail", "air", "sea", "river", "pedestrian"]
    kato: str = Field(pattern=r"^\d{9}$")
    neighbour: str | None = None

    @field_validator("neighbour")
    @classmethod
    def _alpha3(cls, value: str | None) -> str | None:
        return None if value is None else check_alpha3(value)


class Settlement(_Model):
    """A settlement (city, town) with its 9-digit KATO code (AB CD EF HHH) and its name by locale;
    `code_status` says how far the code has been checked (the file's `source` explains)."""

    kato: str = Field(pattern=r"^\d{9}$")
    names: dict[str, str]
    kind: Literal["city_republican", "regional_centre", "town", "village"] = "town"
    code_status: Literal["official", "listed", "derived", "assumed"] = "assumed"

    _names = field_validator("names")(Region._names.__func__)  # type: ignore[attr-defined]  # same rule as regions

    def __hash__(self) -> int:  # the names dict would make the generated hash fail
        return hash((self.kato, tuple(self.names.items())))

    def name(self, locale: str = "en") -> str:
        found = self.names.get(locale) or self.names.get("en")
        return found if found is not None else next(iter(self.names.values()))


class SettlementsFile(_Model):
    source: SourceRef | None = None
    settlement: tuple[Settlement, ...] = ()


class CheckpointsFile(_Model):
    source: str | None = None
    checkpoint: tuple[Checkpoint, ...] = ()


# --- names.toml --------------------------------------------------------------------------------


class NamesFile(_Model):
    """How personal names of each citizenship are written: the romanisation its passports use
    (a table of kosh.people.names, e.g. "ru" for ICAO 9303 Russian); citizenships not listed are
    romanised generically."""

    source: SourceRef | None = None
    passport_romanisation: dict[Alpha3, str] = Field(default_factory=dict)

    @field_validator("passport_romanisation")
    @classmethod
    def _schemes(cls, value: dict[str, str]) -> dict[str, str]:
        for code, scheme in value.items():
            if re.fullmatch(r"^[a-z]{2,3}(-[a-z0-9]+)*$", scheme) is None:
                raise _custom(f"{code}: a romanisation is a language code such as 'ru' or 'ru-bgn' (got {scheme!r})")
        return value


# --- calendar.toml -----------------------------------------------------------------------------


class DayOverride(_Model):
    date: dt.date
    source: SourceRef
    note: str | None = None


class CalendarFile(_Model):
    weekend: tuple[Weekday, ...]
    holidays_provider: str | None = None
    source: SourceRef | None = None
    extra_days_off: tuple[DayOverride, ...] = ()
    extra_working_days: tuple[DayOverride, ...] = ()


# --- stay.toml ---------------------------------------------------------------------------------


Transition = Literal["applies_to_present", "new_entries_only"]


class TransitionFile(_Model):
    """How a new rule version meets people already in the country when it takes effect:
    "applies_to_present" counts its per-entry term from the later of the entry and the day it
    takes effect; "new_entries_only" leaves a stay under the version of its entry day."""

    rule: Transition
    source: SourceRef
    note: str | None = None


class StayRuleVersion(_Model):
    """One version of a group's stay rule, in force from valid_from to valid_to."""

    valid_from: dt.date | None = None  # unset: start not found in the sources, applies to earlier dates
    valid_to: dt.date | None = None  # inclusive; unset: still in force
    basis: str = Field(pattern=CODE_PATTERN)  # one of the pack's declared bases (checked by the loader)
    legal_basis: str = Field(min_length=1)
    # The legal basis in each interface language (by locale; English is `legal_basis`).
    legal_basis_names: dict[str, str] = Field(default_factory=dict)
    per_entry_days: int | None = Field(default=None, ge=1)
    window_days: int | None = Field(default=None, ge=1)
    window_max_days: int | None = Field(default=None, ge=1)
    permit_required_after_days: int | None = Field(default=None, ge=1)
    members: tuple[str, ...] = ()
    source: SourceRef
    note: str | None = None
    transition: Transition | None = None  # unset: the pack's [transition]

    @field_validator("valid_to")
    @classmethod
    def _to_after_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise _custom(f"must be ≥ valid_from (got {value} < {start})")
        return value

    @field_validator("window_max_days")
    @classmethod
    def _max_within_window(cls, value: int | None, info: ValidationInfo) -> int | None:
        window = info.data.get("window_days")
        if value is not None and window is None:
            raise _custom("needs window_days")
        if value is not None and window is not None and value > window:
            raise _custom(f"must be ≤ window_days (got {value} > {window})")
        return value

    @field_validator("members")
    @classmethod
    def _members(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            check_alpha3(code)
        if len(set(value)) != len(value):
            twice = sorted({c for c in value if value.count(c) > 1})
            raise _custom(f"listed twice: {', '.join(twice)}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> StayRuleVersion:
        if self.window_days is not None and self.window_max_days is None:
            raise _custom("window_days needs window_max_days")
        limits = (self.per_entry_days, self.window_days, self.permit_required_after_days)
        if self.basis == VISA_REQUIRED and any(v is not None for v in limits):
            raise _custom(f"a {VISA_REQUIRED} version carries no visa-free limits")
        return self


class StayRuleVersionFile(StayRuleVersion):
    """A rule version as written in stay.toml: its members may also come from named lists
    (stay.toml [lists]), expanded by the loader into the runtime StayRuleVersion."""

    lists: tuple[str, ...] = ()

    @field_validator("lists")
    @classmethod
    def _lists_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise _custom("a list is named twice")
        return value

    def expanded(self, lists: Mapping[str, tuple[str, ...]]) -> StayRuleVersion:
        """The runtime version: members of the named lists, in order, then its own members
        (the loader has checked that the names are declared and no member comes twice)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in StayRuleVersion.model_fields}
        fields["members"] = tuple(code for name in self.lists for code in lists[name]) + self.members
        return StayRuleVersion(**fields)


class CitizenshipGroup(_Model):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    names: dict[str, str] = Field(default_factory=dict)  # the name in each interface language, by locale
    default: bool = False  # the group for every citizenship no other group lists
    version: tuple[StayRuleVersion, ...] = ()


class CitizenshipGroupFile(CitizenshipGroup):
    """A group as written in stay.toml (its versions may name member lists)."""

    version: tuple[StayRuleVersionFile, ...] = ()

    def expanded(self, lists: Mapping[str, tuple[str, ...]], transition: Transition | None = None) -> CitizenshipGroup:
        versions = [v.expanded(lists) for v in self.version]
        return CitizenshipGroup(code=self.code, name=self.name, names=self.names, default=self.default, version=tuple(
            v if v.transition is not None or transition is None else v.model_copy(update={"transition": transition})
            for v in versions))


class HostNotificationFile(_Model):
    working_days: int = Field(ge=0, le=60)
    applies_to: tuple[str, ...] | None = None  # unset: every declared basis
    source: SourceRef
    note: str | None = None


class StayFile(_Model):
    lookback_days: int = Field(default=180, ge=1, le=3660)
    # The grounds a stay may rest on, code → label; every rule version names one.
    bases: dict[str, str]
    # Named member lists (ISO alpha-3 codes) that rule versions refer to with `lists = [...]`.
    lists: dict[str, tuple[Alpha3, ...]] = Field(default_factory=dict)
    host_notification: HostNotificationFile
    # How a new version applies to people present when it takes effect (versions may override).
    transition: TransitionFile | None = None
    group: tuple[CitizenshipGroupFile, ...] = ()

    @field_validator("bases")
    @classmethod
    def _bases(cls, value: dict[str, str]) -> dict[str, str]:
        for code, label in value.items():
            if re.fullmatch(CODE_PATTERN, code) is None:
                raise _custom(f"a basis code is lower-case letters, digits and '_' (got {code!r})")
            if not label.strip():
                raise _custom(f"the label of {code!r} is empty")
        return value

    @field_validator("lists")
    @classmethod
    def _lists(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, members in value.items():
            if re.fullmatch(CODE_PATTERN, name) is None:
                raise _custom(f"a list name is lower-case letters, digits and '_' (got {name!r})")
            if not members:
                raise _custom(f"list {name!r} is empty")
            if len(set(members)) != len(members):
                twice = sorted({c for c in members if members.count(c) > 1})
                raise _custom(f"{name}: listed twice: {', '.join(twice)}")
        return value


# --- retention.toml ----------------------------------------------------------------------------

RetainedKind = Literal[
    "border_events", "host_notifications", "residence_permits", "data_quality_findings", "review_pairs",
    "persons_without_records", "audit_log", "import_rejects", "web_sessions", "login_attempts", "api_tokens",
    "request_keys",
]
# What each kind's term is counted from (the job computes these; the pack only names them).
RETENTION_ANCHORS: dict[str, tuple[str, ...]] = {
    "border_events": ("stay_end",),  # the exit that ended the stay; open stays: term_without_exit
    "host_notifications": ("stay_end",),  # the end of the stay the arrival falls in
    "residence_permits": ("permit_end",),  # valid_to, and never before the stays the permit covers
    "data_quality_findings": ("finding_date",),
    "review_pairs": ("created",),  # pairs still open or deferred; decided pairs live with their persons
    "persons_without_records": ("recorded",),  # a person recorded without any record (a form)
    "audit_log": ("record",),
    "import_rejects": ("written",),
    "web_sessions": ("expiry",),
    "login_attempts": ("attempt",),
    "api_tokens": ("expiry",),  # revoked tokens go at the next run
    "request_keys": ("created",),  # a submission's one-time key and the answer first given
}
RETENTION_ACTIONS: dict[str, tuple[str, ...]] = {
    "persons_without_records": ("delete", "anonymise"),
    # The audit chain verifies from its first record: pruning it would need a signed starting point.
    "audit_log": ("keep",),
}


class RetentionTerm(_Model):
    years: int = Field(default=0, ge=0, le=100)
    months: int = Field(default=0, ge=0, le=1200)
    days: int = Field(default=0, ge=0, le=36600)

    def __str__(self) -> str:
        parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in
                 ((self.years, "year"), (self.months, "month"), (self.days, "day")) if n]
        return " ".join(parts) or "0 days"


class RetentionRule(_Model):
    """How long one kind of record is kept, counted from what, and what happens then."""

    what: RetainedKind
    counted_from: str
    action: Literal["delete", "anonymise", "keep"]
    term: RetentionTerm | None = None
    # Stays with no exit recorded: counted from the end of the authorised stay (else the entry).
    term_without_exit: RetentionTerm | None = None
    # True when no legal term was found and the term is the pack's stated policy.
    policy_default: bool = False
    source: SourceRef
    note: str | None = None

    @field_validator("counted_from")
    @classmethod
    def _anchor(cls, value: str, info: ValidationInfo) -> str:
        allowed = RETENTION_ANCHORS.get(info.data.get("what", ""), ())
        if allowed and value not in allowed:
            raise _custom(f"must be {' or '.join(repr(a) for a in allowed)} for {info.data['what']} (got {value!r})")
        return value

    @field_validator("action")
    @classmethod
    def _action(cls, value: str, info: ValidationInfo) -> str:
        what = info.data.get("what")
        allowed = RETENTION_ACTIONS.get(what or "", ("delete",))
        if what and value not in allowed:
            raise _custom(f"must be {' or '.join(repr(a) for a in allowed)} for {what} (got {value!r})")
        return value

    @model_validator(mode="after")
    def _terms(self) -> RetentionRule:
        if self.action == "keep" and (self.term or self.term_without_exit):
            raise _custom("a kept kind has no term")
        if self.action != "keep" and self.term is None:
            raise _custom("needs a term (or action = 'keep')")
        if self.term_without_exit is not None and self.counted_from != "stay_end":
            raise _custom("term_without_exit applies only to terms counted from stay_end")
        return self


class RetentionFile(_Model):
    source: SourceRef | None = None
    rule: tuple[RetentionRule, ...] = ()


@dataclass(frozen=True)
class RetentionPolicy:
    """The retention rules of a pack by kind; a kind without a rule is kept."""

    rules: tuple[RetentionRule, ...] = ()

    def rule(self, what: str) -> RetentionRule | None:
        return next((r for r in self.rules if r.what == what), None)


# --- public.toml -------------------------------------------------------------------------------


def _localized(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise _custom("must give at least one text")
    for locale, text in value.items():
        if re.fullmatch(LOCALE_PATTERN, locale) is None:
            raise _custom(f"a locale is 2–3 lower-case letters (got {locale!r})")
        if not text.strip():
            raise _custom(f"the {locale!r} text is empty")
    return value


Localized = Annotated[dict[str, str], AfterValidator(_localized)]


def in_locale(texts: Mapping[str, str], locale: str) -> str:
    """A text given by locale: in `locale`, else English, else the first one given."""
    found = texts.get(locale) or texts.get("en")
    return found if found is not None else next(iter(texts.values()))


class PenaltyBand(_Model):
    """One line of a penalty: for overstays, the length it applies to (days, inclusive; open
    ends unset); a fine from `min_units` to `max_units` of the pack's fine unit (both 0: a
    warning); `repeated`: for a repeated offence."""

    from_days: int | None = Field(default=None, ge=1)
    to_days: int | None = Field(default=None, ge=1)
    repeated: bool = False
    min_units: int = Field(ge=0)
    max_units: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> PenaltyBand:
        if self.max_units < self.min_units:
            raise _custom(f"max_units must be ≥ min_units (got {self.max_units} < {self.min_units})")
        if self.from_days is not None and self.to_days is not None and self.to_days < self.from_days:
            raise _custom(f"to_days must be ≥ from_days (got {self.to_days} < {self.from_days})")
        return self


class Penalty(_Model):
    """The penalty for an offence the public status page reports: who is liable (the migrant, or
    the receiving party for a late host notification), the law and article, and its bands."""

    offence: Literal["overstay", "host_notification"]
    liable: Literal["migrant", "host"]
    law: Localized  # the law's name by locale, e.g. the Code of Administrative Offences
    article: str = Field(min_length=1)  # as the law numbers it, e.g. "517(3)"
    bands: tuple[PenaltyBand, ...]
    note: str | None = None
    source: SourceRef


class Contact(_Model):
    """Where a migrant can get help: a name by locale, and a phone number and/or web address,
    each from a source that can be checked."""

    names: Localized
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ]{1,19}$")
    url: str | None = Field(default=None, pattern=r"^https://[^\s]+$")
    source: SourceRef

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if self.phone is None and self.url is None:
            raise _custom("needs a phone number or a web address")
        return self


class PublicFile(_Model):
    """What the public status page says beyond a person's record: penalties and where to get help."""

    penalty: tuple[Penalty, ...] = ()
    contact: tuple[Contact, ...] = ()

    @field_validator("penalty")
    @classmethod
    def _offence_once(cls, value: tuple[Penalty, ...]) -> tuple[Penalty, ...]:
        offences = [p.offence for p in value]
        if len(offences) != len(set(offences)):
            raise _custom("an offence is listed twice")
        return value


# --- permits.toml ------------------------------------------------------------------------------
# A value a source does not give is left unset (None) and explained in `note`: "not found" is
# data, not a guess. `max_extensions`: a number, "unlimited", or unset when not found.

Extensions = int | Literal["unlimited"] | None


class PermitChannel(_Model):
    """A way a foreign national may work: whether it needs a permit, whether it counts against
    the annual quota, its longest term and its extensions."""

    code: str = Field(pattern=CODE_PATTERN)
    needs_permit: bool
    within_quota: bool
    max_term_months: int | None = Field(default=None, gt=0)
    extension_months: int | None = Field(default=None, gt=0)
    max_extensions: Extensions = None
    fee_free: bool = False
    # foreign workers of this channel at most this share (percent) of the citizens on the staff
    # in the same category (intra-corporate transfer: 50)
    max_foreign_share_percent: int | None = Field(default=None, ge=0, le=100)
    # calendar days a worker whose contract ended early may stay to find new work (EAEU: 15)
    search_days_after_end: int | None = Field(default=None, ge=0)
    note: str | None = None
    source: SourceRef


class PermitCategory(_Model):
    """A category of the employer quota permit (1–4, seasonal): the terms it may be issued for
    (months; empty when not found), its extensions, and for category 4 the duty to replace the
    foreign worker by citizens within `replacement_months` (a range: min, max)."""

    code: str = Field(pattern=CODE_PATTERN)
    terms_months: tuple[int, ...] = ()
    extension_months: int | None = Field(default=None, gt=0)
    max_extensions: Extensions = None
    note: str | None = None
    source: SourceRef

    @field_validator("terms_months")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(t <= 0 for t in value) or list(value) != sorted(set(value)):
            raise _custom(f"terms are positive numbers of months, ascending, each once (got {list(value)})")
        return value

    @property
    def max_term_months(self) -> int | None:
        return self.terms_months[-1] if self.terms_months else None


class LocalContentShare(_Model):
    """The least share (percent) of citizens among the employer's staff of the listed categories
    taken together."""

    categories: tuple[str, ...]
    min_percent: int = Field(ge=0, le=100)
    note: str | None = None
    source: SourceRef


class DatedRule(_Model):
    """A rule in force from `valid_from` to `valid_to` (inclusive; an open end unset)."""

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: str | None = None
    source: SourceRef

    @model_validator(mode="after")
    def _ordered(self) -> DatedRule:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise _custom(f"valid_to must be on or after valid_from (got {self.valid_to} < {self.valid_from})")
        return self

    def applies_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class VacancyPosting(DatedRule):
    """The labour-market test: the vacancy is posted `wait_days` calendar days before the
    application may be filed."""

    wait_days: int = Field(ge=0)
    where: str = Field(min_length=1)


class HouseholdPrepayment(DatedRule):
    """The tax a household worker prepays per month of the permit, in the fine unit (MCI)."""

    mci_per_month: int = Field(gt=0)


class ReplacementDuty(DatedRule):
    """The employer replaces a foreign worker of `category` by citizens within min–max months."""

    category: str = Field(pattern=CODE_PATTERN)
    min_months: int = Field(gt=0)
    max_months: int = Field(gt=0)


class ExtensionWindow(_Model):
    """An extension is filed no earlier than `earliest_days` and no later than `latest_days`
    (calendar days) before the permit expires, and decided within `decision_working_days`."""

    earliest_days: int = Field(gt=0)
    latest_days: int = Field(ge=0)
    decision_working_days: int | None = Field(default=None, gt=0)
    source: SourceRef

    @model_validator(mode="after")
    def _ordered(self) -> ExtensionWindow:
        if self.latest_days > self.earliest_days:
            raise _custom(f"latest_days must be ≤ earliest_days (got {self.latest_days} > {self.earliest_days})")
        return self


class FeeDeadline(_Model):
    """The permit fee is paid within `working_days` of approval, else the permit is not issued."""

    working_days: int = Field(gt=0)
    source: SourceRef


class ApplicationPolicy(_Model):
    """How long a place reserved at submission is held (working days) before it goes back to the
    quota, and the akimat's decision time; `policy`: the installation's setting, not law."""

    reservation_working_days: int = Field(gt=0)
    decision_working_days: int = Field(gt=0)
    policy: bool = False
    note: str | None = None
    source: SourceRef


PermitStepName = Literal["return", "refuse", "suspend", "revoke"]


class PermitReason(_Model):
    """A reason an officer picks for a step, with its names per language."""

    code: str = Field(pattern=CODE_PATTERN)
    steps: tuple[PermitStepName, ...] = Field(min_length=1)
    name: str = Field(min_length=1)
    names: dict[str, str] = Field(default_factory=dict)


def _dated_lookup(rules: Sequence[DatedRule], day: dt.date) -> Any:
    return next((r for r in rules if r.applies_on(day)), None)


def _no_overlap(rules: Sequence[DatedRule], what: str) -> None:
    ordered = sorted(rules, key=lambda r: r.valid_from or dt.date.min)
    for a, b in pairwise(ordered):
        if a.valid_to is None or (b.valid_from or dt.date.min) <= a.valid_to:
            raise _custom(f"two {what} rules are in force on the same day ({b.valid_from or 'open start'})")


class PermitsFile(_Model):
    """permits.toml: the work-authorisation channels, the categories of the employer quota permit
    and the rules an application is checked against. Optional: a pack without it has none."""

    channel: tuple[PermitChannel, ...] = ()
    category: tuple[PermitCategory, ...] = ()
    local_content: tuple[LocalContentShare, ...] = ()
    vacancy_posting: tuple[VacancyPosting, ...] = ()
    household_prepayment: tuple[HouseholdPrepayment, ...] = ()
    replacement_duty: tuple[ReplacementDuty, ...] = ()
    extension_window: ExtensionWindow | None = None
    fee_deadline: FeeDeadline | None = None
    application: ApplicationPolicy | None = None
    reason: tuple[PermitReason, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PermitsFile:
        for what, items in (("channel", self.channel), ("category", self.category), ("reason", self.reason)):
            codes = [c.code for c in items]
            if len(codes) != len(set(codes)):
                raise _custom(f"a {what} code is listed twice")
        known = {c.code for c in self.category}
        covered: list[str] = []
        for share in self.local_content:
            for code in share.categories:
                if code not in known:
                    raise _custom(f"local_content names an unknown category {code!r}")
            covered += share.categories
        if len(covered) != len(set(covered)):
            raise _custom("a category is in two local_content shares")
        for duty in self.replacement_duty:
            if duty.category not in known:
                raise _custom(f"replacement_duty names an unknown category {duty.category!r}")
            if duty.max_months < duty.min_months:
                raise _custom(f"replacement_duty max_months must be ≥ min_months (got {duty.max_months})")
        _no_overlap(self.vacancy_posting, "vacancy_posting")
        _no_overlap(self.household_prepayment, "household_prepayment")
        for code in known:
            _no_overlap([d for d in self.replacement_duty if d.category == code], "replacement_duty")
        return self

    def channel_for(self, code: str) -> PermitChannel | None:
        return next((c for c in self.channel if c.code == code), None)

    def category_for(self, code: str) -> PermitCategory | None:
        return next((c for c in self.category if c.code == code), None)

    def local_content_for(self, category: str) -> LocalContentShare | None:
        return next((s for s in self.local_content if category in s.categories), None)

    def vacancy_posting_on(self, day: dt.date) -> VacancyPosting | None:
        """The labour-market test in force on `day`; None when the pack has none for that day."""
        found: VacancyPosting | None = _dated_lookup(self.vacancy_posting, day)
        return found

    def household_prepayment_on(self, day: dt.date) -> HouseholdPrepayment | None:
        """The household worker's monthly prepayment in force on `day`."""
        found: HouseholdPrepayment | None = _dated_lookup(self.household_prepayment, day)
        return found

    def reasons_for(self, step: str) -> list[PermitReason]:
        """The reasons an officer may give for `step` (return, refuse, suspend, revoke)."""
        return [r for r in self.reason if step in r.steps]

    def replacement_duty_on(self, category: str, day: dt.date) -> ReplacementDuty | None:
        found: ReplacementDuty | None = _dated_lookup([d for d in self.replacement_duty if d.category == category], day)
        return found


# --- wages.toml ---------------------------------------------------------------------------------
# How wages are checked against the contract: when a month's wage is due, when it counts as paid,
# how much may be deducted, and the timeline of a finding. Several rule sets may be listed (the
# country's own, and reference sets such as the UAE's WPS or Saudi Arabia's Mudad that an
# installation may choose); the engine is told which one applies.


class WageRule(DatedRule):
    """A rule set for checking a month's wage. `pay_by_day_of_next_month`: the wage of a month is
    due by that day of the next month; unset, on the month's last day. A month is paid once at
    least `paid_share_percent` of the contract wage is paid, late when that happens (or has not
    happened) after the due day plus `grace_days`."""

    code: str = Field(pattern=CODE_PATTERN)
    pay_by_day_of_next_month: int | None = Field(default=None, ge=1, le=28)
    grace_days: int = Field(default=0, ge=0, le=60)
    paid_share_percent: int = Field(default=100, ge=1, le=100)
    deduction_cap_percent: int | None = Field(default=None, ge=0, le=100)
    compliant_employer_percent: int | None = Field(default=None, ge=0, le=100)
    reminder_days: tuple[int, ...] = ()
    inspection_request_day: int | None = Field(default=None, ge=0, le=365)
    employer_answer_days: int | None = Field(default=None, ge=0, le=365)
    worker_answer_days: int | None = Field(default=None, ge=0, le=365)


class MinimumWage(DatedRule):
    """The monthly minimum wage in force (in the pack's currency)."""

    kzt: int = Field(gt=0)


class WagesFile(_Model):
    """wages.toml: the wage rule sets and the minimum wage by period. Optional."""

    wage_rule: tuple[WageRule, ...] = ()
    minimum_wage: tuple[MinimumWage, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> WagesFile:
        codes = [r.code for r in self.wage_rule]
        for code in set(codes):
            _no_overlap([r for r in self.wage_rule if r.code == code], f"wage_rule {code}")
        _no_overlap(self.minimum_wage, "minimum_wage")
        return self

    def rule_on(self, code: str, day: dt.date) -> WageRule | None:
        """The version of rule set `code` in force on `day`."""
        found: WageRule | None = _dated_lookup([r for r in self.wage_rule if r.code == code], day)
        return found

    def minimum_wage_on(self, day: dt.date) -> MinimumWage | None:
        found: MinimumWage | None = _dated_lookup(self.minimum_wage, day)
        return found


# --- runtime objects ---------------------------------------------------------------------------


class WorkingCalendar:
    """Working days: not a weekend day, not a provider holiday, unless overridden by decree.

    `holidays_for_year` returns the days off a provider knows for a year (python-holidays for
    a pack); the per-year set of day-off ordinals is computed once and cached.
    """

    __slots__ = ("weekend", "_provider", "_extra_off", "_extra_working", "_years", "_shift_cache")

    def __init__(
        self,
        weekend: Iterable[int] = (5, 6),
        holidays_for_year: Callable[[int], Iterable[dt.date]] | None = None,
        extra_days_off: Iterable[dt.date] = (),
        extra_working_days: Iterable[dt.date] = (),
    ) -> None:
        self.weekend = frozenset(weekend)
        self._provider = holidays_for_year
        self._extra_off = frozenset(d.toordinal() for d in extra_days_off)
        self._extra_working = frozenset(d.toordinal() for d in extra_working_days)
        if self._extra_off & self._extra_working:
            raise ValueError("a day cannot be both an extra day off and an extra working day")
        self._years: dict[int, frozenset[int]] = {}
        self._shift_cache: dict[tuple[int, int], int] = {}

    @classmethod
    def from_provider(
        cls,
        country: str | None,
        weekend: Iterable[int] = (5, 6),
        extra_days_off: Iterable[dt.date] = (),
        extra_working_days: Iterable[dt.date] = (),
    ) -> WorkingCalendar:
        provider = None
        if country is not None:
            import holidays  # imported lazily: only packs that name a provider need it

            def provider(year: int, _code: str = country) -> Iterable[dt.date]:
                return holidays.country_holidays(_code, years=year).keys()

        return cls(weekend, provider, extra_days_off, extra_working_days)

    def days_off(self, year: int) -> frozenset[int]:
        """Ordinals of the non-working days of `year` (weekends included)."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        off = {o for o in range(first, last + 1) if (o - 1) % 7 in self.weekend}  # ordinal 1 is a Monday
        if self._provider is not None:
            off.update(d.toordinal() for d in self._provider(year) if d.year == year)
        off.update(o for o in self._extra_off if first <= o <= last)
        off.difference_update(self._extra_working)
        result = frozenset(off)
        self._years[year] = result
        return result

    def is_working_day(self, day: dt.date) -> bool:
        return day.toordinal() not in self.days_off(day.year)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The day `n` working days after `start` (before it when n < 0); start itself not counted."""
        key = (start.toordinal(), n)
        hit = self._shift_cache.get(key)
        if hit is not None:
            return dt.date.fromordinal(hit)
        step = 1 if n >= 0 else -1
        day = start
        remaining = abs(n)
        while remaining:
            day = dt.date.fromordinal(day.toordinal() + step)
            if day.toordinal() not in self.days_off(day.year):
                remaining -= 1
        self._shift_cache[key] = day.toordinal()
        return day


@dataclass(frozen=True, slots=True)
class StayRule:
    """A rule version resolved for the engine: limits, dates as ordinals, and its human text."""

    group: str
    group_name: str
    version_index: int
    valid_from: dt.date | None
    valid_to: dt.date | None
    basis: str
    legal_basis: str
    per_entry_days: int | None
    window_days: int | None
    window_max_days: int | None
    permit_required_after_days: int | None
    source: SourceRef
    note: str | None
    text: str
    from_ord: int
    to_ord: int
    entry_limit_days: int | None  # continuous days allowed from a crossing: per-entry and TRP limits
    window_limited: bool  # False when the window's maximum equals its length: never exceeded
    transition: Transition = "applies_to_present"
    # The group's name and the legal basis in each interface language: (locale, text) pairs.
    group_names: tuple[tuple[str, str], ...] = ()
    legal_basis_names: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(cls, group: CitizenshipGroup, index: int) -> StayRule:
        v = group.version[index]
        limits = [d for d in (v.per_entry_days, v.permit_required_after_days) if d is not None]
        return cls(
            group=group.code,
            group_name=group.name,
            version_index=index,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            basis=v.basis,
            legal_basis=v.legal_basis,
            per_entry_days=v.per_entry_days,
            window_days=v.window_days,
            window_max_days=v.window_max_days,
            permit_required_after_days=v.permit_required_after_days,
            source=v.source,
            note=v.note,
            text=describe_rule(group.name, v),
            from_ord=v.valid_from.toordinal() if v.valid_from else MIN_ORD,
            to_ord=v.valid_to.toordinal() if v.valid_to else MAX_ORD,
            entry_limit_days=min(limits) if limits else None,
            window_limited=(v.window_days is not None and v.window_max_days is not None
                            and v.window_max_days < v.window_days),
            transition=v.transition or "applies_to_present",
            group_names=tuple(sorted({"en": group.name, **group.names}.items())),
            legal_basis_names=tuple(sorted({"en": v.legal_basis, **v.legal_basis_names}.items())),
        )


def describe_rule(group_name: str, v: StayRuleVersion) -> str:
    """e.g. 'Uzbekistan: 30 days per entry, 90 days in any 180 (bilateral agreement, from 2023-01-27)'."""
    if v.basis == VISA_REQUIRED:
        limits = "stay only on a visa or TRP"
    else:
        parts = []
        if v.per_entry_days is not None:
            parts.append(f"{v.per_entry_days} days per entry")
        if v.window_days is not None:
            parts.append(f"{v.window_max_days} days in any {v.window_days}")
        if v.permit_required_after_days is not None:
            parts.append(f"TRP required after {v.permit_required_after_days} days from the crossing")
        limits = ", ".join(parts) if parts else "visa-free; no stay limit given by the source"
    since = f"from {v.valid_from.isoformat()}" if v.valid_from else "start date not recorded"
    until = f", until {v.valid_to.isoformat()}" if v.valid_to else ""
    return f"{group_name}: {limits} ({v.legal_basis}, {since}{until})"


@dataclass(frozen=True, slots=True)
class HostNotificationRule:
    working_days: int
    applies_to: frozenset[str]
    source: SourceRef
    note: str | None = None


class StayRules:
    """All stay rule versions of a pack, indexed by citizenship for fast selection by date."""

    __slots__ = ("groups", "host_notification", "calendar", "own_citizenship", "lookback_days",
                 "bases", "_by_member", "_default", "_changes")

    def __init__(
        self,
        groups: Sequence[CitizenshipGroup],
        host_notification: HostNotificationRule,
        calendar: WorkingCalendar,
        own_citizenship: str | None = None,
        lookback_days: int = 180,
        bases: Mapping[str, str] | None = None,
    ) -> None:
        self.groups = tuple(groups)
        self.host_notification = host_notification
        self.calendar = calendar
        self.own_citizenship = own_citizenship
        self.lookback_days = lookback_days
        # The bases the pack declares, code → label (the rules' bases when none are given).
        self.bases: dict[str, str] = (dict(bases) if bases is not None else
                                      {v.basis: v.basis for g in self.groups for v in g.version})
        by_member: dict[str, list[StayRule]] = {}
        default: list[StayRule] = []
        for group in self.groups:
            for index, version in enumerate(group.version):
                rule = StayRule.build(group, index)
                if group.default:
                    default.append(rule)
                for code in version.members:
                    by_member.setdefault(code, []).append(rule)
        self._by_member = {k: tuple(sorted(v, key=lambda r: r.from_ord)) for k, v in by_member.items()}
        self._default = tuple(sorted(default, key=lambda r: r.from_ord))
        # Per citizenship, every day its version may change (sorted): asked for each stay assessed.
        self._changes: dict[str, list[int]] = {}

    def rule_for_ordinal(self, citizenship: str, day: int) -> StayRule:
        for rule in self._by_member.get(citizenship, ()):
            if rule.from_ord <= day <= rule.to_ord:
                return rule
        for rule in self._default:
            if rule.from_ord <= day <= rule.to_ord:
                return rule
        raise LookupError(f"no stay rule for {citizenship} on {dt.date.fromordinal(day)}")

    def changes(self, citizenship: str, start: int, end: int) -> list[int]:
        """The days in (start, end] (ordinals) on which the version in force for a citizenship may
        change: a version's first day, or the day after its last, in its group or the default."""
        days = self._changes.get(citizenship)
        if days is None:
            days = sorted({d for rule in (*self._by_member.get(citizenship, ()), *self._default)
                           for d in (rule.from_ord, rule.to_ord + 1) if MIN_ORD < d <= MAX_ORD})
            self._changes[citizenship] = days
        return days[bisect_right(days, start):bisect_right(days, end)]

    def rule_for(self, citizenship: str, day: dt.date) -> StayRule:
        """The rule version in force on `day` for a citizenship (the default group otherwise)."""
        return self.rule_for_ordinal(citizenship, day.toordinal())

    def all_rules(self) -> list[StayRule]:
        return [StayRule.build(g, i) for g in self.groups for i in range(len(g.version))]


def _fold(text: str) -> str:
    """A name as compared when searching: case, ё/е and spacing differences ignored."""
    return " ".join(text.casefold().replace("ё", "е").split())


@dataclass(frozen=True, eq=False)  # identity hash: the pack holds dicts
class JurisdictionPack:
    """A country's rules as validated data."""

    code: str
    name: str
    citizenship: str
    default_locale: str
    locales: tuple[str, ...]
    currency: str
    timezone: str
    mci: dict[int, int]  # the fine unit's amount by year (Kazakhstan's unit is the MCI)
    regions: tuple[Region, ...]
    checkpoints: tuple[Checkpoint, ...]
    calendar: WorkingCalendar
    stay_rules: StayRules
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    fine_unit: FineUnit | None = None
    # citizenship (alpha-3) → the romanisation its passports use (names.toml)
    passport_romanisation: dict[str, str] = field(default_factory=dict)
    # the languages of the public pages (pack.toml public_locales, else `locales`)
    public_locales: tuple[str, ...] = ()
    # penalties and help contacts shown on the public status page (public.toml)
    penalties: tuple[Penalty, ...] = ()
    contacts: tuple[Contact, ...] = ()
    settlements: tuple[Settlement, ...] = ()  # settlements.toml, in file order
    permits: PermitsFile = field(default_factory=PermitsFile)  # permits.toml (work authorisation)
    wages: WagesFile = field(default_factory=WagesFile)  # wages.toml (wage checks)
    _regions_by_kato: dict[str, Region] = field(default_factory=dict, repr=False)
    _checkpoints_by_code: dict[str, Checkpoint] = field(default_factory=dict, repr=False)
    _settlements_by_kato: dict[str, Settlement] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._regions_by_kato.update({r.kato: r for r in self.regions})
        self._checkpoints_by_code.update({c.code: c for c in self.checkpoints})
        self._settlements_by_kato.update({s.kato: s for s in self.settlements})

    def settlement(self, kato: str) -> Settlement | None:
        return self._settlements_by_kato.get(kato)

    def find_settlements(self, text: str, locale: str = "en", limit: int = 20) -> list[Settlement]:
        """Settlements whose name in any language (or a word of it) starts with `text`, those whose
        name in `locale` does first, then alphabetically; every settlement for an empty text."""
        needle = _fold(text)
        by_name = sorted(self.settlements, key=lambda s: _fold(s.name(locale)))
        if not needle:
            return by_name[:limit]

        def rank(s: Settlement) -> int | None:
            if _fold(s.name(locale)).startswith(needle):
                return 0
            words = [w for n in s.names.values() for w in re.split(r"[\s-]+", _fold(n))]
            if any(_fold(n).startswith(needle) for n in s.names.values()) or any(w.startswith(needle) for w in words):
                return 1
            return None

        ranked = [(r, i, s) for i, s in enumerate(by_name) if (r := rank(s)) is not None]
        return [s for _, _, s in sorted(ranked, key=lambda t: (t[0], t[1]))][:limit]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    @property
    def notification_deadline_working_days(self) -> int:
        return self.stay_rules.host_notification.working_days

    def region_for_kato(self, kato: str) -> Region | None:
        """The region of a 9-digit KATO code (by its first two digits); None when unknown."""
        if len(kato) != 9 or not kato.isdigit():
            raise ValueError(f"a KATO code has 9 digits (got {kato!r})")
        return self._regions_by_kato.get(kato[:2])

    def checkpoint(self, code: str) -> Checkpoint | None:
        return self._checkpoints_by_code.get(code)

    def penalty(self, offence: str) -> Penalty | None:
        return next((p for p in self.penalties if p.offence == offence), None)

    def mci_value(self, year: int) -> int | None:
        """The fine unit's value (MCI) in force on 1 January of `year`; None when the pack does
        not know it."""
        return self.mci.get(year)
