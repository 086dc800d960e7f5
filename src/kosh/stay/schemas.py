"""Input and output shapes of the stay registry (API bodies and import rows alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, overload
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from kosh.people.schemas import (
    BirthDate,
    Country,
    DocumentNumber,
    IdentityFields,
    Name,
    OptionalDate,
    RequiredName,
    Sex,
    Strict,
    _empty_to_none,
    _today,
    validate_host_id,
)
from kosh.platform.clock import utcnow
from kosh.platform.validation import DisplayLines
from kosh.platform.words import N_, Msg, field_labels, region_name
from kosh.stay.rules import (
    EARLIEST,
    PermitPeriod,
    Violation,
    notification_reason,
    outside_accepted,
    rule_code,
    rule_text,
)

if TYPE_CHECKING:
    from kosh.stay.rules import StayAssessment

SourceId = Annotated[str, Field(min_length=1, max_length=100)]
Kato = Annotated[str, Field(pattern=r"^\d{9}$", description="9-digit KATO code")]

field_labels({
    "source_event_id": N_("Record id at the source"), "direction": N_("Direction"), "occurred_at": N_("Time"),
    "checkpoint": N_("Checkpoint"), "host_kind": N_("Host is"), "host_id": N_("Host IIN or BIN"),
    "host_name": N_("Host name"), "kato": N_("Settlement"), "address": N_("Address"),
    "arrival_date": N_("Arrival date"), "expected_departure": N_("Expected departure"),
    "submitted_at": N_("Submitted"), "kind": N_("Kind"), "valid_from": N_("Valid from"), "valid_to": N_("Valid until"),
    "events": N_("Border crossings"), "on": N_("On date"), "trips": N_("Trips"), "trips.start": N_("Entry date"),
    "trips.end": N_("Exit date"), "start": N_("Entry date"), "end": N_("Exit date"),
    "permits": N_("Visas and permits"), "permits.kind": N_("Permit type"), "permits.start": N_("Valid from"),
    "permits.end": N_("Valid until"),
})


def _ctx(info: ValidationInfo) -> dict:
    if info.context and info.context.get("pack") is not None:
        return info.context  # imports pass the pack (and the clock) once for all rows
    ctx = dict(info.context or {})
    if ctx.get("pack") is None:
        # Bodies validated by FastAPI carry no context: use the installation's pack.
        from kosh.jurisdictions import load_pack
        from kosh.platform.config import get_settings

        ctx["pack"] = load_pack(get_settings().jurisdiction)
    return ctx


def _now(info: ValidationInfo) -> dt.datetime:
    return _ctx(info).get("now") or utcnow()


def _zone(info: ValidationInfo) -> ZoneInfo:
    ctx = _ctx(info)
    return ctx.get("zone") or ctx["pack"].zone


@overload
def _not_future_day(value: dt.date, info: ValidationInfo, what: str) -> dt.date: ...
@overload
def _not_future_day(value: dt.date | None, info: ValidationInfo, what: str) -> dt.date | None: ...
def _not_future_day(value: dt.date | None, info: ValidationInfo, what: str) -> dt.date | None:
    if value is None:
        return None
    if value > _today(info):
        raise ValueError(Msg(N_("%(day)s is in the future"), day=value))
    if value < EARLIEST:
        raise ValueError(Msg(N_("%(day)s is before %(first)s, the first day Kosh accepts"), day=value, first=EARLIEST))
    return value


def _known_region(kato: str, info: ValidationInfo) -> str:
    pack = _ctx(info).get("pack")
    if pack is not None and pack.region_for_kato(kato) is None:
        raise ValueError(Msg(N_("%(code)s is not in a known region (its first two digits name no region)"),
                             code=kato))
    return _writers_region(kato, info)


def _writers_region(kato: str, info: ValidationInfo) -> str:
    """An import row is refused (into the rejects file) when its region is not the importing
    officer's: officers record only in their own regions."""
    regions = (info.context or {}).get("write_regions")
    if regions is None:
        return kato
    from kosh.platform.scope import within_regions  # here: the calculator's inputs load no SQL layer

    if not within_regions(kato, regions):
        yours: object = [region_name(r) for r in regions] if regions else Msg(N_("none"))
        raise ValueError(Msg(N_("%(region)s is outside your regions (%(yours)s)."), region=region_name(kato) or kato,
                             yours=yours))
    return kato


class BorderEventIn(Strict):
    source_event_id: SourceId
    direction: Literal["entry", "exit"]
    occurred_at: dt.datetime
    checkpoint: Annotated[str, Field(min_length=1, max_length=40)]
    document_type: Literal["P", "PD", "PS", "ID"] = "P"
    document_number: DocumentNumber
    issuing_state: Country
    nationality: Country
    surname: RequiredName
    given_names: Name = ""
    sex: Sex = "X"
    birth_date: BirthDate
    document_expiry: OptionalDate = None

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("occurred_at")
    @classmethod
    def _occurred(cls, v: dt.datetime, info: ValidationInfo) -> dt.datetime:
        if v.tzinfo is None:
            v = v.replace(tzinfo=_zone(info))  # feeds without an offset report local time
        if v > _now(info) + dt.timedelta(minutes=10):
            raise ValueError(Msg(N_("%(day)s is in the future"), day=v.date()))
        if v.date() < EARLIEST:
            raise ValueError(Msg(N_("%(day)s is before %(first)s, the first day Kosh accepts"), day=v.date(),
                                 first=EARLIEST))
        return v

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint(cls, v: str, info: ValidationInfo) -> str:
        v = v.strip().upper()
        pack = _ctx(info).get("pack")
        if pack is not None and pack.checkpoint(v) is None:
            raise ValueError(Msg(N_("%(code)s is not a known checkpoint"), code=v))
        return v


class NotificationIn(IdentityFields):
    source_event_id: SourceId | None = None
    host_kind: Literal["individual", "organisation"]
    host_id: Annotated[str, Field(min_length=1, max_length=20)]
    host_name: RequiredName
    document_number: DocumentNumber
    issuing_state: Country
    kato: Kato
    address: Annotated[DisplayLines, Field(min_length=3, max_length=500)]
    arrival_date: dt.date
    expected_departure: OptionalDate = None
    submitted_at: dt.datetime | None = None

    @field_validator("source_event_id", "submitted_at", "expected_departure", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return _empty_to_none(v)

    @field_validator("host_id")
    @classmethod
    def _host_id(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("host_kind")
        if kind is None:
            return v  # host_kind itself is invalid and reported
        return validate_host_id(kind, v)

    @field_validator("kato")
    @classmethod
    def _kato(cls, v: str, info: ValidationInfo) -> str:
        return _known_region(v, info)

    @field_validator("arrival_date")
    @classmethod
    def _arrival(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        return _not_future_day(v, info, "arrival date")

    @field_validator("submitted_at")
    @classmethod
    def _submitted(cls, v: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            v = v.replace(tzinfo=_zone(info))
        if v > _now(info) + dt.timedelta(minutes=10):
            raise ValueError(Msg(N_("%(day)s is in the future"), day=v.date()))
        return v

    @model_validator(mode="after")
    def _consistent(self) -> NotificationIn:
        if self.expected_departure is not None and self.expected_departure < self.arrival_date:
            raise ValueError(Msg(N_("The expected departure (%(departure)s) is before the arrival (%(arrival)s)."),
                                 departure=self.expected_departure, arrival=self.arrival_date))
        if self.submitted_at is not None and self.submitted_at.date() < self.arrival_date - dt.timedelta(days=1):
            raise ValueError(Msg(N_("The notification was submitted before the arrival it reports.")))
        return self


class ResidencePermitIn(Strict):
    source_event_id: SourceId
    document_number: DocumentNumber
    issuing_state: Country
    kind: Literal["trp", "visa"]
    purpose: Annotated[str, Field(max_length=30)] = ""
    valid_from: dt.date
    valid_to: dt.date
    kato: Annotated[str, BeforeValidator(lambda v: v or "")] = ""

    @field_validator("kato")
    @classmethod
    def _kato(cls, v: str, info: ValidationInfo) -> str:
        if v and not v.isdigit():
            raise ValueError(Msg(N_("must be 9 digits")))
        return _known_region(v, info) if v else _writers_region(v, info)

    @model_validator(mode="after")
    def _period(self) -> ResidencePermitIn:
        if self.valid_to < self.valid_from:
            raise ValueError(Msg(N_("The end of validity (%(end)s) is before its start (%(start)s)."),
                                 end=self.valid_to, start=self.valid_from))
        if self.valid_from < EARLIEST:
            raise ValueError(Msg(N_("%(day)s is before %(first)s, the first day Kosh accepts"), day=self.valid_from,
                                 first=EARLIEST))
        return self


class BulkBorderEvents(Strict):
    events: list[BorderEventIn] = Field(min_length=1, max_length=10_000)


def _calculator_day(value: dt.date | None, info: ValidationInfo) -> dt.date | None:
    # The engine counts windows and working-day deadlines past these days: keep them in the calendar.
    if value is not None and (refused := outside_accepted(value)) is not None:
        raise ValueError(refused)
    return value


class TripIn(Strict):
    start: dt.date
    end: dt.date | None = None

    _days = field_validator("start", "end")(_calculator_day)

    @model_validator(mode="after")
    def _order(self) -> TripIn:
        if self.end is not None and self.end < self.start:
            raise ValueError(Msg(N_("The trip ends (%(end)s) before it starts (%(start)s)."), end=self.end,
                                 start=self.start))
        return self


CalculatorPermitKind = Literal["visa", "trp", "work_permit"]
# The calculator's permit kinds, each as its code (the API's, and what an error lists as allowed) and
# as a person names it (the page's choice); the codes are words of the catalog too.
CALCULATOR_PERMIT_KINDS: dict[str, str] = {"visa": N_("Visa"), "trp": N_("Temporary residence permit (TRP)"),
                                           "work_permit": N_("Work permit")}
_KIND_CODES = (N_("visa"), N_("trp"), N_("work_permit"))
MAX_PERMITS = 5  # visas and permits the calculator takes: a person rarely holds more in one window
_COVERED = {"visa": N_("Days covered by your visa from %(start)s to %(end)s do not count."),
            "trp": N_("Days covered by your temporary residence permit from %(start)s to %(end)s do not count."),
            "work_permit": N_("Days covered by your work permit from %(start)s to %(end)s do not count.")}


class PermitIn(Strict):
    """A visa, TRP or work permit the calculator takes as lawful basis of stay. A work permit counts
    as a TRP: in Kazakhstan the worker's temporary residence follows the permit for its term (the
    registry keeps a permit's spans the same way, see service.replace_work_basis)."""

    kind: CalculatorPermitKind
    start: dt.date = Field(description="first day it is valid")
    end: dt.date = Field(description="last day it is valid (included)")

    _days = field_validator("start", "end")(_calculator_day)

    @model_validator(mode="after")
    def _order(self) -> PermitIn:
        if self.end < self.start:
            raise ValueError(Msg(N_("The permit ends (%(end)s) before it starts (%(start)s)."), end=self.end,
                                 start=self.start))
        return self

    def period(self) -> PermitPeriod:
        """The period as the engine takes it (a work permit as a TRP)."""
        return PermitPeriod("trp" if self.kind == "work_permit" else self.kind, self.start, self.end)

    def said(self) -> Msg:
        """What the answer says of it: its days do not count against the visa-free limits."""
        return Msg(_COVERED[self.kind], start=self.start, end=self.end)


class CalculatorIn(Strict):
    citizenship: Country
    # Before `trips`, so that the trips' check can see the day they are assessed on.
    on: dt.date | None = Field(None, description="the day to assess (default: today in the jurisdiction)")
    trips: list[TripIn] = Field(min_length=1, max_length=200)
    permits: list[PermitIn] = Field(default_factory=list, max_length=MAX_PERMITS,
                                    description="visas, TRPs and work permits held (a work permit counts as a "
                                                "TRP); their days do not count against visa-free limits")

    def periods(self) -> list[PermitPeriod]:
        return [p.period() for p in self.permits]

    def permit_notes(self) -> list[Msg]:
        return [p.said() for p in self.permits]

    _on = field_validator("on")(_calculator_day)

    @field_validator("citizenship")
    @classmethod
    def _foreign(cls, v: str, info: ValidationInfo) -> str:
        own = _ctx(info)["pack"].stay_rules.own_citizenship
        if own is not None and v == own:
            raise ValueError(Msg(N_("Citizens of this country are not foreigners here: stay limits do not apply.")))
        return v

    @field_validator("trips")
    @classmethod
    def _open_trip(cls, trips: list[TripIn], info: ValidationInfo) -> list[TripIn]:
        open_ = [n for n, t in enumerate(trips, start=1) if t.end is None]
        if len(open_) > 1:
            raise ValueError(Msg(N_("Trips %(trips)s have no exit date: only one trip (the current one) may be "
                                    "open-ended."), trips=", ".join(map(str, open_))))
        on = info.data.get("on") or _now(info).astimezone(_zone(info)).date()
        for n in open_:
            if trips[n - 1].start > on:
                raise ValueError(Msg(N_("Trip %(n)s has no exit date but starts after %(day)s: a trip without an exit "
                                        "date is the current stay, so it must have started by then."), n=n, day=on))
        return trips


class DeadlineOut(BaseModel):
    kind: str
    due: dt.date
    met: bool | None


class RuleOut(BaseModel):
    code: str
    text: str
    source: str


class ViolationOut(BaseModel):
    """A run of unlawful presence: past (within the look-back), today's, or planned (calculator);
    or of days past a host notification's due day without it (`due`; `filed` when late)."""

    kind: str
    kind_text: str = Field(description="the kind in words, in the reader's language")
    first_day: dt.date
    last_day: dt.date
    days: int
    stay_entry: dt.date | None
    planned: bool
    due: dt.date | None = Field(None, description="host notification kinds: the day it was due")
    filed: dt.date | None = Field(None, description="notification_late: the day it was submitted")
    text: str | None = Field(None, description="host notification kinds: what happened, in words")


class StayStatusOut(BaseModel):
    on: dt.date
    citizenship: str
    status: str
    in_country: bool
    current_entry: dt.date | None
    days_used: int
    days_left: int
    last_lawful_day: dt.date | None
    overstay_days: int
    deadlines: list[DeadlineOut]
    violations: list[ViolationOut]
    rule: RuleOut
    reasons: list[str]


def violation_out(v: Violation, on: dt.date, lang: str | None = "en") -> ViolationOut:
    """A violation as the API answers it, in the language `lang`; None: plain English without the
    catalogs (the command line, which loads no Babel)."""
    said = notification_reason(v)
    if lang is None:
        kind_text, text = v.kind.replace("_", " "), None if said is None else str(said)
    else:
        from kosh.platform.i18n import gettext_for, say

        kind_text, text = gettext_for(lang)(v.kind), None if said is None else say(said, lang)
    return ViolationOut(kind=v.kind, kind_text=kind_text, first_day=v.start, last_day=v.end,
                        days=v.days, stay_entry=v.stay_entry, planned=v.start > on, due=v.due, filed=v.filed,
                        text=text)


def assessment_out(result: StayAssessment, on: dt.date, citizenship: str, lang: str | None = None,
                   notes: Sequence[Msg] = ()) -> StayStatusOut:
    """An assessment as the API answers it and the CLI prints it (`kosh stay calc`, `kosh stay status`):
    the rule and the reasons in the language `lang`, or (None, the command line) in plain English
    with ISO dates, without loading the catalogs. `notes` come first among the reasons (the
    calculator's word on each permit it was given)."""
    def say(message: object, language: str | None) -> str:
        if language is None:
            return str(message)
        from kosh.platform.i18n import say as said

        return said(message, language)

    return StayStatusOut(
        on=on, citizenship=citizenship, status=result.status, in_country=result.in_country,
        current_entry=result.current_entry, days_used=result.days_used,
        days_left=result.days_left if result.days_left is not None else 0,
        last_lawful_day=result.last_lawful_day, overstay_days=result.overstay_days,
        deadlines=[DeadlineOut(kind=d.kind, due=d.due, met=d.met) for d in result.deadlines],
        violations=[violation_out(v, on, lang) for v in result.violations],
        rule=RuleOut(code=rule_code(result.rule), text=say(rule_text(result.rule), lang),
                     source=str(result.rule.source)),
        reasons=[say(r, lang) for r in (*notes, *result.reasons)])


class ListItemOut(BaseModel):
    person_id: str
    surname: str
    given_names: str
    citizenship: str
    region_kato: str
    current_entry: dt.date | None
    last_lawful_day: dt.date | None
    notification_due: dt.date | None
    overstay_days: int = 0
    overdue_days: int = 0


class ListPageOut(BaseModel):
    items: list[ListItemOut]
    next_cursor: str | None
    prev_cursor: str | None = None
    total: int = Field(0, description="rows of the whole list, every page")
    sort: str = "due"
    on: dt.date


class RecordedViolationOut(BaseModel):
    """A violation recorded for a person (GET /stay/violations)."""

    person_id: str
    surname: str
    given_names: str
    citizenship: str
    region_kato: str
    kind: str
    kind_text: str = Field(description="the kind in words, in the reader's language")
    first_day: dt.date
    last_day: dt.date | None = Field(description="null while it goes on")
    ongoing: bool
    days: int = Field(description="first to last day, both counted; to today while it goes on")
    stay_entry: dt.date | None
    due: dt.date | None = Field(description="host notification kinds: the day it was due")
    filed: dt.date | None = Field(description="notification_late: the day it was submitted")


class RecordedViolationsOut(BaseModel):
    items: list[RecordedViolationOut]
    next_cursor: str | None
    first_day: dt.date
    last_day: dt.date
