"""Migrants: check my status — the public status page's use cases (no account).

A person gives their citizenship, document number and date of birth and reads what the registry
holds about their stay: status, days used and left, last lawful day, open deadlines, whether a
host notification is on record (never where or by whom), past violations, and what to do. They
may take a printable proof with a share code that a third party (an officer, an employer, a
landlord) checks with the holder's date of birth.

- The person is found only on an exact match of the three facts; no match and more than one match
  give the same answer, so the page tells a guesser nothing.
- Every look-up and check is audited as self-service access (actor "self-service"); a failed one
  without any personal data in clear.
- Look-ups and checks are rate-limited per client and per document number or code (kept hashed),
  in the memory of each process (kosh.platform.ratelimit).

Flows commit: a failed look-up's audit record must be kept, so "not found" is a value here, and
the web layer turns it into its reply after the transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import pycountry
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal
from sqlalchemy.orm import Session

from kosh.jurisdictions.schema import Penalty, PenaltyBand, in_locale
from kosh.people import service as people
from kosh.people.countries import country_name
from kosh.permits import household
from kosh.permits import service as permits
from kosh.permits.rules import STATE_WORDS, PermitState
from kosh.permits.schemas import CHANNEL_WORDS
from kosh.platform import audit
from kosh.platform.clock import utcnow
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, TooManyRequests, ValidationFailed
from kosh.platform.i18n import translations
from kosh.platform.ratelimit import SlidingWindow
from kosh.platform.words import N_, Msg, field_labels
from kosh.stay import public as stay_public
from kosh.stay import rules
from kosh.stay import service as stay_service
from kosh.stay.service import local_today


@dataclass(frozen=True)
class SelfServiceActor:
    """The actor audit records name for the public page: no account, a person asking about
    themselves (or a third party checking a proof the person gave them)."""

    username: str
    role: str = "self_service"
    purpose: str = "own status"


SELF_SERVICE = SelfServiceActor("self-service", purpose="own status")
PROOF_CHECK = SelfServiceActor("self-service", purpose="check a proof of status")
ROLE_WORD = N_("self_service")  # the actor's role, as the audit pages show it

# citizenship, document_number, birth_date and on are labelled by people and stay (one label a name)
field_labels({"code": N_("Share code")})

NOT_FOUND = N_("We could not find a record with these details. Check them against your passport: "
               "the citizenship, the document number and the date of birth must all be as recorded.")
TOO_MANY = N_("Too many tries. For your safety, try again in %(minutes)s min.")
PROOF_NOT_VALID = N_("This proof is not valid: the share code or the date of birth is wrong.")
PROOF_EXPIRED = N_("This proof is no longer valid: it expired on %(day)s.")

# The status in words, as the person (or whoever checks their proof) reads it (the codes: rules.Status).
STATUS_PHRASES: dict[str, str] = {
    "lawful": N_("Lawful stay"),
    "notification_overdue": N_("Host notification overdue"),
    "overstay": N_("Staying longer than allowed"),
    "no_lawful_basis": N_("No visa or permit that allows the stay"),
    "not_in_country": N_("Not in the country"),
}
# Past violations by kind (kosh.stay.rules.ViolationKind), in words.
VIOLATION_PHRASES: dict[str, str] = {
    "per_entry": N_("Stayed past the days allowed for one entry"),
    "window": N_("Stayed past the days allowed in the period"),
    "permit_required": N_("Stayed without the temporary residence permit required"),
    "permit_expired": N_("Stayed after the visa or permit ended"),
    "no_basis": N_("Stayed without a visa or permit"),
    "notification_missed": N_("Host notification not submitted"),
    "notification_late": N_("Host notification submitted late"),
}
OFFENCE_PHRASES = {"overstay": N_("Staying longer than allowed"),
                   "host_notification": N_("Host notification not submitted on time")}
LIABLE_PHRASES = {"migrant": N_("Who is fined: you."),
                  "host": N_("Who is fined: the receiving party (employer, hotel, landlord or private host), "
                             "not you.")}

# Citizenships that are no country (ICAO 9303 codes a registry records): offered after the countries.
OTHER_CITIZENSHIPS = {"XXA": N_("Stateless person"), "XXB": N_("Refugee (1951 Convention)"),
                      "XXC": N_("Refugee (other)"), "XXX": N_("Unspecified nationality")}

# Share codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V — letters and digits a reader cannot mix up.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
CODE_LENGTH = 9
_DOCUMENT = re.compile(r"^[A-Za-z0-9 \-./]{1,30}$")


# -- the questions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    citizenship: str
    document_number: str
    birth_date: dt.date
    on: dt.date | None = None


@dataclass(frozen=True)
class ProofQuestion:
    code: str  # normalised: the alphabet's characters, no separators
    birth_date: dt.date


def _birth_date(value: str | dt.date | None, today: dt.date, errors: list[FieldError]) -> dt.date | None:
    if isinstance(value, dt.date):
        day: dt.date | None = value
    else:
        try:
            day = dt.date.fromisoformat((value or "").strip())
        except ValueError:
            day = None
    if day is None:
        errors.append(FieldError("birth_date", Msg(N_("Enter your date of birth as a full date: day, month and year."))
                                 if not (value or "") else Msg(N_("This is not a real date; enter day, month and "
                                                                    "year."))))
        return None
    if day > today:
        errors.append(FieldError("birth_date", Msg(N_("The date of birth must be in the past."))))
    elif day.year < 1900:
        errors.append(FieldError("birth_date", Msg(N_("The date of birth must be after 1900."))))
    return day


def question(ctx: Context, citizenship: str | None, document_number: str | None, birth_date: str | dt.date | None,
             on: str | dt.date | None = None) -> Question:
    """The look-up's input, checked; else ValidationFailed naming each field in the user's words."""
    errors: list[FieldError] = []
    code = (citizenship or "").strip().upper()
    if not code:
        errors.append(FieldError("citizenship", Msg(N_("Choose your citizenship."))))
    elif (pycountry.countries.get(alpha_3=code) is None and code not in OTHER_CITIZENSHIPS) \
            or code == ctx.pack.citizenship:
        errors.append(FieldError("citizenship", Msg(N_("Choose your citizenship from the list."))))
    number = (document_number or "").strip()
    if not number:
        errors.append(FieldError("document_number", Msg(N_("Enter the number of your passport or travel document."))))
    elif _DOCUMENT.fullmatch(number) is None or not any(c.isalnum() for c in number):
        errors.append(FieldError("document_number", Msg(N_("A document number has only Latin letters and digits, "
                                                             "at most 30."))))
    today = local_today(ctx)
    born = _birth_date(birth_date, today, errors)
    day: dt.date | None = None
    if isinstance(on, dt.date):
        day = on
    elif on:
        try:
            day = dt.date.fromisoformat(on.strip())
        except ValueError:
            errors.append(FieldError("on", Msg(N_("This is not a real date; enter day, month and year."))))
    if day is not None and rules.outside_accepted(day) is not None:
        errors.append(FieldError("on", Msg(N_("Choose a day between %(first)s and %(last)s."),
                                           first=rules.EARLIEST, last=rules.CALCULATOR_LATEST)))
    if errors or born is None:
        raise ValidationFailed(errors)
    return Question(code, number, born, day)


def normalize_code(value: str | None) -> str:
    """A share code as typed (any case, with or without dashes and spaces) in its stored form."""
    return re.sub(r"[\s\-–]", "", value or "").upper()


def proof_question(ctx: Context, code: str | None, birth_date: str | dt.date | None) -> ProofQuestion:
    errors: list[FieldError] = []
    normal = normalize_code(code)
    if not normal:
        errors.append(FieldError("code", Msg(N_("Enter the share code, for example %(example)s."),
                                             example="K7M-4QX-9TR")))
    elif len(normal) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in normal):
        errors.append(FieldError("code", Msg(N_("A share code has %(n)s letters and digits, for example %(example)s."),
                                             n=CODE_LENGTH, example="K7M-4QX-9TR")))
    born = _birth_date(birth_date, local_today(ctx), errors)
    if errors or born is None:
        raise ValidationFailed(errors)
    return ProofQuestion(normal, born)


def grouped(code: str) -> str:
    """A share code as shown: groups of three joined by dashes (K7M-4QX-9TR)."""
    return "-".join(code[i:i + 3] for i in range(0, len(code), 3))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# -- rate limits -----------------------------------------------------------------------------


class Limits:
    """The public pages' rate limits: per client (IP address) and per document number or share code
    (kept as keyed hashes, never in clear). Per process (kosh.platform.ratelimit)."""

    def __init__(self, settings: Settings) -> None:
        window = settings.status_window_seconds
        self.lookups_by_client = SlidingWindow(settings.status_lookups_per_client, window)
        self.lookups_by_document = SlidingWindow(settings.status_lookups_per_document, window)
        self.checks_by_client = SlidingWindow(settings.status_checks_per_client, window)
        self.checks_by_code = SlidingWindow(settings.status_checks_per_code, window)


def _take(pairs: list[tuple[SlidingWindow, str]]) -> None:
    """Count one try against every limit, or refuse it (TooManyRequests) and count none."""
    wait = max(limit.wait(key) for limit, key in pairs)
    if wait == 0:
        # Another thread may take the last try between the look and the count: then this one is refused.
        wait = max(limit.hit(key) for limit, key in pairs)
        if wait == 0:
            return
    raise TooManyRequests(Msg(TOO_MANY, minutes=max(1, math.ceil(wait / 60))), retry_after=wait)


def _hashed(ctx: Context, value: str, kind: str) -> str:
    return ctx.keyring.blind_index(value, f"status_{kind}")


# -- the answer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenDeadline:
    kind: Literal["host_notification", "permit"]
    due: dt.date
    overdue: bool = False


@dataclass(frozen=True)
class PastViolation:
    kind: str
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Snapshot:
    """What the result page shows about the stay (no address, no host): also what a proof keeps."""

    name: str
    citizenship: str
    on: dt.date
    status: str
    in_country: bool
    current_entry: dt.date | None
    days_used: int
    days_left: int | None
    window_days: int
    window_max_days: int | None
    last_lawful_day: dt.date | None
    deadlines: tuple[OpenDeadline, ...]
    notified_on: dt.date | None  # the day a host notification for the current stay was submitted
    violations: tuple[PastViolation, ...]

    def to_json(self) -> dict[str, Any]:
        def day(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        return {"name": self.name, "citizenship": self.citizenship, "on": day(self.on), "status": self.status,
                "in_country": self.in_country, "current_entry": day(self.current_entry),
                "days_used": self.days_used, "days_left": self.days_left, "window_days": self.window_days,
                "window_max_days": self.window_max_days, "last_lawful_day": day(self.last_lawful_day),
                "deadlines": [{"kind": d.kind, "due": day(d.due), "overdue": d.overdue} for d in self.deadlines],
                "notified_on": day(self.notified_on),
                "violations": [{"kind": v.kind, "first": day(v.first), "last": day(v.last), "days": v.days}
                               for v in self.violations]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        def day(s: str | None) -> dt.date | None:
            return dt.date.fromisoformat(s) if s else None

        return cls(name=data["name"], citizenship=data["citizenship"], on=dt.date.fromisoformat(data["on"]),
                   status=data["status"], in_country=data["in_country"], current_entry=day(data["current_entry"]),
                   days_used=data["days_used"], days_left=data["days_left"], window_days=data["window_days"],
                   window_max_days=data["window_max_days"], last_lawful_day=day(data["last_lawful_day"]),
                   deadlines=tuple(OpenDeadline(d["kind"], dt.date.fromisoformat(d["due"]), d["overdue"])
                                   for d in data["deadlines"]),
                   notified_on=day(data["notified_on"]),
                   violations=tuple(PastViolation(v["kind"], dt.date.fromisoformat(v["first"]),
                                                  dt.date.fromisoformat(v["last"])) for v in data["violations"]))


@dataclass(frozen=True)
class StatusAnswer:
    snapshot: Snapshot
    reasons: tuple[str, ...]  # the engine's reasons (Msgs), said in the reader's language
    notification_required: bool  # the pack asks a host notification for this person's stays
    person_id: str = field(repr=False, default="")
    permits: tuple[OwnPermit, ...] = ()  # the work permits naming the person (not kept in a proof)


@dataclass(frozen=True)
class OwnPermit:
    """A work permit (or EAEU contract) as the worker reads it on their own page: no other worker
    and no address, only what the permit is, where and when it is valid, and what is due."""

    reference: str
    channel: str
    state: str
    regions: tuple[str, ...]  # 2-digit KATO codes of the regions where it is valid
    valid_from: dt.date | None
    valid_to: dt.date | None
    employer: str
    next_payment: tuple[str, int] | None  # household permits: the month ("YYYY-MM") and KZT due next
    unpaid: bool  # suspended because a month's prepayment is unpaid

    @property
    def kind_words(self) -> str:
        return CHANNEL_WORDS.get(self.channel, self.channel)

    @property
    def state_words(self) -> str:
        return STATE_WORDS[PermitState(self.state)]


def own_permits(session: Session, ctx: Context, person_id: str) -> tuple[OwnPermit, ...]:
    """The person's permits, newest first; an application still in draft is the employer's alone."""
    found = permits.permits_of_persons(session, ctx, [person_id], local_today(ctx))
    return tuple(OwnPermit(p.reference, p.channel, p.state, tuple(p.regions), p.valid_from, p.valid_to,
                           p.employer_name, p.next_payment,
                           p.state == PermitState.SUSPENDED and p.reason_code == household.UNPAID)
                 for p in found if p.state != PermitState.DRAFT)


def month_words(key: str, lang: str) -> str:
    """A month "YYYY-MM" in words in the reader's language ("April 2026")."""
    year, month = key.split("-")
    return format_skeleton("yMMMM", dt.date(int(year), int(month), 1), locale=lang)


def kzt(amount: int, lang: str) -> str:
    """An amount in tenge as the reader writes numbers ("17,300 ₸")."""
    return f"{format_decimal(amount, locale=lang)} ₸"


def citizenship_name(code: str, lang: str) -> str:
    """A citizenship by its name in the reader's language."""
    if code in OTHER_CITIZENSHIPS:
        return translations(lang).gettext(OTHER_CITIZENSHIPS[code])
    return country_name(code, lang)


def citizenships(ctx: Context, lang: str) -> list[tuple[str, str]]:
    """(code, name) of every citizenship the page offers: the countries by name, then the others."""
    return stay_service.calculator_countries(ctx, lang) + [(code, citizenship_name(code, lang))
                                                           for code in OTHER_CITIZENSHIPS]


def _snapshot(name: str, own: stay_public.OwnStatus, ctx: Context) -> tuple[Snapshot, bool]:
    a = own.assessment
    # Open: due for the current stay and not yet met (a missed one of a past stay is a past violation).
    deadlines: list[OpenDeadline] = [OpenDeadline("host_notification", d.due, d.overdue) for d in a.deadlines
                                     if d.kind == "host_notification" and d.submitted is None
                                     and (d.overdue or d.met is None) and a.in_country
                                     and a.current_entry is not None and d.entry >= a.current_entry]
    limit = a.rule.permit_required_after_days
    if a.in_country and a.current_entry is not None and limit is not None and a.days_left is not None:
        due = a.current_entry + dt.timedelta(days=limit)
        # Met by a permit in force from then on (a registered EAEU employment contract is one); days
        # without one before it are past violations.
        asked = max(due, a.on)
        if not any(start <= asked <= end for start, end in own.permits):
            deadlines.append(OpenDeadline("permit", due, overdue=a.on >= due))
    notified = None
    if a.in_country and a.current_entry is not None:
        notified = next((submitted for arrival, submitted in reversed(own.notifications)
                         if arrival >= a.current_entry), None)
    notification = ctx.pack.stay_rules.host_notification
    required = a.rule.basis in notification.applies_to
    snap = Snapshot(name=name, citizenship=own.citizenship, on=own.on, status=a.status, in_country=a.in_country,
                    current_entry=a.current_entry, days_used=a.days_used, days_left=a.days_left,
                    window_days=a.window_days, window_max_days=a.window_max_days,
                    last_lawful_day=a.last_lawful_day, deadlines=tuple(sorted(deadlines, key=lambda d: d.due)),
                    notified_on=notified,
                    violations=tuple(PastViolation(v.kind, v.start, v.end) for v in a.violations if v.start <= own.on))
    return snap, required


def _find(session: Session, ctx: Context, limits: Limits, client: str, q: Question) -> tuple[str, StatusAnswer] | None:
    number_key = _hashed(ctx, re.sub(r"[\s\-./]", "", q.document_number).upper(), "document")
    _take([(limits.lookups_by_client, client), (limits.lookups_by_document, number_key)])
    person_id = people.find_holder(session, ctx, q.citizenship, q.document_number, q.birth_date)
    own = stay_public.own_status(session, ctx, person_id, q.on) if person_id else None
    if person_id is None or own is None:
        audit.append(session, ctx.keyring, SELF_SERVICE, [audit.Access(
            "read", "status_lookup", "-", {"found": False, "document": number_key})])
        return None
    surname, given = people.brief_names(session, [person_id]).get(person_id, ("", ""))
    snap, required = _snapshot(" ".join(p for p in (surname, given) if p), own, ctx)
    return person_id, StatusAnswer(snap, tuple(own.assessment.reasons), required, person_id,
                                   own_permits(session, ctx, person_id))


def check_status(session: Session, ctx: Context, limits: Limits, client: str, q: Question) -> StatusAnswer | None:
    """The person's own status, or None when no single record matches (audited either way)."""
    found = _find(session, ctx, limits, client, q)
    if found is None:
        return None
    person_id, answer = found
    audit.append(session, ctx.keyring, SELF_SERVICE, [audit.Access(
        "read", "person", person_id, {"view": "own status", "on": answer.snapshot.on})])
    return answer


@dataclass(frozen=True)
class IssuedProof:
    code: str  # grouped for display
    snapshot: Snapshot
    issued_at: dt.datetime
    valid_until: dt.datetime


def issue_proof(session: Session, ctx: Context, limits: Limits, client: str, q: Question) -> IssuedProof | None:
    """A proof of the person's status today with a new share code, or None as `check_status`."""
    found = _find(session, ctx, limits, client, q)
    if found is None:
        return None
    person_id, answer = found
    code = new_code()
    proof = stay_public.keep_proof(session, ctx, person_id, stay_public.proof_lookup(ctx, code, q.birth_date),
                                   answer.snapshot.to_json(), ctx.settings.status_proof_days)
    audit.append(session, ctx.keyring, SELF_SERVICE, [audit.Access(
        "create", "status_proof", person_id, {"on": answer.snapshot.on, "valid_until": proof.valid_until})])
    return IssuedProof(grouped(code), answer.snapshot, proof.issued_at, proof.valid_until)


@dataclass(frozen=True)
class ProofCheck:
    state: Literal["valid", "expired", "not_valid"]
    snapshot: Snapshot | None = None
    issued_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def message(self, zone: Any) -> Msg | None:
        if self.state == "not_valid":
            return Msg(PROOF_NOT_VALID)
        if self.state == "expired" and self.valid_until is not None:
            return Msg(PROOF_EXPIRED, day=self.valid_until.astimezone(zone).date())
        return None


def check_proof(session: Session, ctx: Context, limits: Limits, client: str, q: ProofQuestion,
                now: dt.datetime | None = None) -> ProofCheck:
    """What a proof says, if its code and the holder's date of birth match and it has not expired;
    an expired proof shows only when it expired. Audited as a read of the holder's status."""
    _take([(limits.checks_by_client, client), (limits.checks_by_code, _hashed(ctx, q.code, "code"))])
    proof = stay_public.find_proof(session, ctx, stay_public.proof_lookup(ctx, q.code, q.birth_date))
    if proof is None:
        audit.append(session, ctx.keyring, PROOF_CHECK, [audit.Access(
            "read", "status_proof", "-", {"valid": False})])
        return ProofCheck("not_valid")
    current = now or utcnow()
    expired = proof.valid_until <= current
    audit.append(session, ctx.keyring, PROOF_CHECK, [audit.Access(
        "read", "person", proof.person_id, {"view": "status proof", "expired": expired,
                                             "issued_at": proof.issued_at})])
    if expired:
        return ProofCheck("expired", valid_until=proof.valid_until)
    return ProofCheck("valid", Snapshot.from_json(proof.snapshot), proof.issued_at, proof.valid_until)


# -- what to do: penalties and help, from the pack ---------------------------------------------


@dataclass(frozen=True)
class PenaltyView:
    offence: str  # the phrase, in the reader's language
    liable: str
    law: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ContactView:
    name: str
    phone: str | None
    url: str | None


def _units(ctx: Context, n: int, year: int, lang: str) -> str:
    unit = ctx.pack.fine_unit.code if ctx.pack.fine_unit else ""
    text = f"{format_decimal(n, locale=lang)} {unit}".strip()
    value = ctx.pack.mci_value(year)
    if value is None or ctx.pack.fine_unit is None:
        return text
    amount = format_currency(n * value, ctx.pack.fine_unit.currency, locale=lang, format="#,##0 ¤",
                             currency_digits=False)
    return f"{text} ({amount})"


def _band(ctx: Context, band: PenaltyBand, year: int, lang: str) -> str:
    gettext = translations(lang).gettext
    if band.max_units == 0:
        penalty = gettext(N_("a warning"))
    elif band.min_units == band.max_units:
        penalty = gettext(N_("a fine of %(amount)s")) % {"amount": _units(ctx, band.max_units, year, lang)}
    elif band.min_units == 0:
        penalty = gettext(N_("a fine of up to %(amount)s")) % {"amount": _units(ctx, band.max_units, year, lang)}
    else:
        penalty = gettext(N_("a fine of %(low)s to %(high)s")) % {
            "low": _units(ctx, band.min_units, year, lang), "high": _units(ctx, band.max_units, year, lang)}
    if band.repeated:
        return gettext(N_("When repeated: %(penalty)s")) % {"penalty": penalty}
    if band.from_days is not None and band.to_days is not None:
        return gettext(N_("%(from)s to %(to)s days: %(penalty)s")) % {
            "from": band.from_days, "to": band.to_days, "penalty": penalty}
    if band.from_days is not None:
        return gettext(N_("From %(from)s days: %(penalty)s")) % {"from": band.from_days, "penalty": penalty}
    return gettext(N_("First time: %(penalty)s")) % {"penalty": penalty}


def _penalty(ctx: Context, p: Penalty, year: int, lang: str) -> PenaltyView:
    gettext = translations(lang).gettext
    law = gettext(N_("%(law)s, Article %(article)s")) % {"law": in_locale(p.law, lang), "article": p.article}
    return PenaltyView(gettext(OFFENCE_PHRASES[p.offence]), gettext(LIABLE_PHRASES[p.liable]), law,
                       tuple(_band(ctx, b, year, lang) for b in p.bands))


def penalties(ctx: Context, on: dt.date, lang: str) -> list[PenaltyView]:
    """The pack's penalties for the offences the page reports, amounts at the fine unit's value
    of `on`'s year (when the pack knows it)."""
    return [_penalty(ctx, p, on.year, lang) for p in ctx.pack.penalties]


def contacts(ctx: Context, lang: str) -> list[ContactView]:
    return [ContactView(in_locale(c.names, lang), c.phone, c.url) for c in ctx.pack.contacts]

