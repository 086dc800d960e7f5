"""The host workspace: what a landlord, a hotel or an employer does with its own notifications.

A host (role `host`, whose account carries its IIN/BIN, `Principal.host_party`) submits a
notification as that party — never as one it posts — and sees, corrects, cancels and reports the
departure of those made as that party, no other. Nothing is deleted: a correction adds a version
(the one before is kept, marked superseded), a cancellation keeps the row with its reason; neither
a superseded nor a cancelled version counts for the stay engine (`repository.in_force`).

A submission is stored once however often it arrives (`run_once`): a page's one-time form token
or an API `Idempotency-Key` is kept with the answer first given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kosh.jurisdictions.schema import JurisdictionPack, Settlement
from kosh.platform import audit
from kosh.platform.clock import utcnow
from kosh.platform.context import Context
from kosh.platform.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.validation import check_display_text, validate_model
from kosh.platform.words import N_, Msg, field_labels
from kosh.stay import repository, service
from kosh.stay.models import HostNotification, HostRequestKey
from kosh.stay.schemas import NotificationIn

# What a host writes about the guest and the stay; the host's own fields come from its account.
GUEST_FIELDS = service.GUEST_FIELDS
STAY_FIELDS = ("kato", "address", "arrival_date", "expected_departure")
FORM_FIELDS = (*GUEST_FIELDS, *STAY_FIELDS)

STATUS_WORDS = {"active": N_("active"), "corrected": N_("corrected"), "cancelled": N_("cancelled"),
                "departed": N_("departed"), "superseded": N_("superseded")}
field_labels({"reason": N_("Reason"), "departed_on": N_("Departure date"), "settlement": N_("Town or city"),
              "Idempotency-Key": N_("Idempotency-Key")})

MAX_PER_PAGE = 100
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces (RFC draft: a string)


@dataclass(frozen=True)
class HostNotificationView:
    """One version of a host's notification as the host sees it: what it submitted, no person id."""

    id: int
    reference: str
    version: int
    status: str  # active | corrected | cancelled | departed | superseded
    guest: dict[str, str]
    host_kind: str
    host_name: str
    kato: str
    address: str
    arrival_date: dt.date
    expected_departure: dt.date | None
    departed_on: dt.date | None
    submitted_at: dt.datetime
    superseded_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None

    @property
    def in_force(self) -> bool:
        return self.superseded_at is None and self.cancelled_at is None

    @property
    def guest_name(self) -> str:
        g = self.guest
        return " ".join(p for p in (g.get("surname", ""), g.get("given_names", ""), g.get("patronymic", "")) if p)


@dataclass(frozen=True)
class GuestPage:
    items: list[HostNotificationView]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class HostNotificationHistory:
    current: HostNotificationView
    versions: list[HostNotificationView] = field(default_factory=list)  # the first first


def status_of(n: HostNotification) -> str:
    if n.superseded_at is not None:
        return "superseded"
    if n.cancelled_at is not None:
        return "cancelled"
    if n.departed_on is not None:
        return "departed"
    return "corrected" if n.version > 1 else "active"


def _view(ctx: Context, n: HostNotification) -> HostNotificationView:
    guest: dict[str, str] = {}
    if n.guest_encrypted:
        guest = {k: str(v) for k, v in json.loads(ctx.keyring.decrypt(n.guest_encrypted,
                                                                       service.GUEST_CONTEXT)).items()}
    return HostNotificationView(
        id=n.id, reference=n.reference or n.source_event_id, version=n.version, status=status_of(n), guest=guest,
        host_kind=n.host_kind, host_name=n.host_name, kato=n.kato, address=n.address, arrival_date=n.arrival_date,
        expected_departure=n.expected_departure, departed_on=n.departed_on, submitted_at=n.submitted_at,
        superseded_at=n.superseded_at, cancelled_at=n.cancelled_at, cancel_reason=n.cancel_reason)


def _party_index(ctx: Context, principal: Principal, permission: Permission) -> str:
    principal.require(permission)
    if principal.role != Role.HOST or not principal.host_party:
        raise Forbidden(Msg(N_("Only a host's account, which names its IIN or BIN, has guests.")))
    return ctx.keyring.blind_index(principal.host_party, service.HOST_ID_CONTEXT)


def check_host(ctx: Context, principal: Principal) -> None:
    """Refuse early, before a form is filled in, an account that cannot notify as a host."""
    _party_index(ctx, principal, Permission.NOTIFICATION_WRITE)


def _own(session: Session, ctx: Context, principal: Principal, notification_id: int,
         permission: Permission) -> HostNotification:
    """A notification made as the caller's host party; any other looks the same as none (and a
    caller that is no host has none)."""
    principal.require(permission)
    index = (ctx.keyring.blind_index(principal.host_party, service.HOST_ID_CONTEXT)
             if principal.role == Role.HOST and principal.host_party else None)
    note = repository.notification(session, notification_id) if index else None
    if note is None or note.host_id_index != index:
        raise NotFound(Msg(N_("No notification %(id)s among yours."), id=notification_id))
    return note


def _changeable(session: Session, ctx: Context, principal: Principal, notification_id: int) -> HostNotification:
    note = _own(session, ctx, principal, notification_id, Permission.NOTIFICATION_WRITE)
    if note.superseded_at is not None:
        raise Conflict(Msg(N_("This version was corrected since: change the latest version.")))
    if note.cancelled_at is not None:
        raise Conflict(Msg(N_("This notification is cancelled and can no longer be changed.")))
    return note


def host_identity(principal: Principal) -> dict[str, str]:
    """The receiving party as its account names it: the server uses these, never posted ones."""
    party = principal.host_party or ""
    # A BIN's fifth digit is its entity type (4–6); an IIN's is a day-of-birth tens digit (0–3).
    kind = "organisation" if len(party) == 12 and party[4] in "456" else "individual"
    return {"host_kind": kind, "host_id": party, "host_name": principal.display_name or principal.username}


def _note(ctx: Context, principal: Principal, data: Mapping[str, object],
          submitted_at: dt.datetime | None = None) -> NotificationIn:
    values = {k: v for k, v in data.items() if k in FORM_FIELDS and v not in (None, "")}
    values.update(host_identity(principal))
    if submitted_at is not None:
        values["submitted_at"] = submitted_at
    return validate_model(NotificationIn, values, service.validation_context(ctx, principal))


def _source_id() -> str:
    return f"kosh-{uuid.uuid4()}"


def check(ctx: Context, principal: Principal, data: Mapping[str, object]) -> NotificationIn:
    """The answers validated as they would be stored (the check-your-answers step stores nothing)."""
    _party_index(ctx, principal, Permission.NOTIFICATION_WRITE)
    return _note(ctx, principal, data)


def due_day(ctx: Context, arrival: dt.date) -> dt.date:
    """The last day to notify an arrival: the pack's working days after it, on the engine's calendar."""
    return ctx.pack.calendar.add_working_days(arrival, ctx.pack.notification_deadline_working_days)


def is_late(ctx: Context, arrival: dt.date, on: dt.date | None = None) -> bool:
    return (on or service.local_today(ctx)) > due_day(ctx, arrival)


def submit(session: Session, ctx: Context, principal: Principal, data: Mapping[str, object]) -> HostNotificationView:
    """A new notification from the host, as its own party."""
    _party_index(ctx, principal, Permission.NOTIFICATION_WRITE)
    note = _note(ctx, principal, data)
    note = note.model_copy(update={"source_event_id": _source_id()})
    service.record_notifications(session, ctx, principal, [note])
    stored = repository.notification_by_source(session, note.source_event_id or "")
    assert stored is not None, "just recorded"
    return _view(ctx, stored)


def list_guests(session: Session, ctx: Context, principal: Principal, page: int = 1,
                per_page: int = 20) -> GuestPage:
    index = _party_index(ctx, principal, Permission.NOTIFICATION_READ)
    page, per_page = max(1, page), max(1, min(per_page, MAX_PER_PAGE))
    rows, total = repository.host_current(session, index, per_page, (page - 1) * per_page)
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "list", "host_notification", "own", {"ids": [r.id for r in rows], "page": page})])
    return GuestPage([_view(ctx, r) for r in rows], total, page, per_page)


def history(session: Session, ctx: Context, principal: Principal, notification_id: int) -> HostNotificationHistory:
    """A notification of the host's with all its versions; any version's id leads to the latest."""
    note = _own(session, ctx, principal, notification_id, Permission.NOTIFICATION_READ)
    versions = [_view(ctx, v) for v in repository.versions_of(session, note)]
    current = next((v for v in reversed(versions) if v.superseded_at is None), versions[-1])
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "host_notification", str(current.id), {"reference": current.reference})])
    return HostNotificationHistory(current, versions)


def correct(session: Session, ctx: Context, principal: Principal, notification_id: int,
            data: Mapping[str, object]) -> HostNotificationView:
    """A new version with the host's corrected answers; the old one is kept, marked superseded.
    The notification keeps the day it was first made, unless the corrected arrival is after it."""
    old = _changeable(session, ctx, principal, notification_id)
    first_made = old.submitted_at
    keep_day = first_made.astimezone(service.zone(ctx)).date()
    arrival = data.get("arrival_date")
    try:
        later = arrival is not None and dt.date.fromisoformat(str(arrival)) > keep_day + dt.timedelta(days=1)
    except ValueError:
        later = False  # the validation below names the bad date
    note = _note(ctx, principal, data, submitted_at=None if later else first_made)
    note = note.model_copy(update={"source_event_id": _source_id()})
    if old.reference is None:  # made before the workspace: its versions start sharing a reference now
        old.reference = service.new_reference(ctx)
    old.superseded_at = utcnow()
    session.flush()  # the old version no longer counts when the new one's status is computed
    service.record_notifications(session, ctx, principal, [note])
    new = repository.notification_by_source(session, note.source_event_id or "")
    assert new is not None, "just recorded"
    new.reference, new.version = old.reference, old.version + 1
    new.departed_on, new.departure_reported_at = old.departed_on, old.departure_reported_at
    session.flush()
    if old.person_id != new.person_id:
        service.refresh_status(session, ctx, [old.person_id])
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "correct", "host_notification", str(new.id), {"reference": new.reference, "supersedes": old.id})])
    return _view(ctx, new)


def cancel(session: Session, ctx: Context, principal: Principal, notification_id: int,
           reason: str) -> HostNotificationView:
    """Withdraw a notification made in error; the row stays, with who cancelled it, when and why."""
    note = _changeable(session, ctx, principal, notification_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", Msg(N_("Say why the notification is cancelled.")))])
    if len(reason) > 500:
        raise ValidationFailed([FieldError("reason", Msg(N_("Write at most %(n)s characters."), n=500))])
    try:
        reason = check_display_text(reason, "reason", multiline=True)
    except ValueError as exc:
        raise ValidationFailed([FieldError("reason", exc.args[0])]) from None
    note.cancelled_at, note.cancelled_by, note.cancel_reason = utcnow(), principal.user_id, reason
    session.flush()
    service.refresh_status(session, ctx, [note.person_id])
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "cancel", "host_notification", str(note.id), {"reference": note.reference or note.source_event_id})])
    return _view(ctx, note)


def report_departure(session: Session, ctx: Context, principal: Principal, notification_id: int,
                     departed_on: dt.date) -> HostNotificationView:
    """The guest left the address on `departed_on` (not before arrival, not after today)."""
    note = _changeable(session, ctx, principal, notification_id)
    if note.departed_on is not None:
        raise Conflict(Msg(N_("The departure was already reported (%(day)s)."), day=note.departed_on))
    if departed_on < note.arrival_date:
        raise ValidationFailed([FieldError("departed_on", Msg(
            N_("The departure cannot be before the arrival (%(day)s)."), day=note.arrival_date))])
    if departed_on > service.local_today(ctx):
        raise ValidationFailed([FieldError("departed_on", Msg(N_("The departure cannot be in the future.")))])
    note.departed_on, note.departure_reported_at = departed_on, utcnow()
    session.flush()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "departure", "host_notification", str(note.id), {"reference": note.reference or note.source_event_id})])
    return _view(ctx, note)


# -- submissions made once ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Once:
    """The answer to a submission: `replayed` when it is the one first given to the same key."""

    status_code: int
    response: dict[str, Any] | None
    notification_id: int | None
    replayed: bool = False


def fingerprint(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def check_key(key: str | None, field_name: str = "Idempotency-Key") -> str | None:
    if key is None:
        return None
    if not _KEY.match(key):
        raise ValidationFailed([FieldError(field_name, Msg(
            N_("Use 1 to 200 visible ASCII characters, without spaces.")))])
    return key


def run_once(ctx: Context, principal: Principal, scope: str, key: str | None, body_sha256: str,
             work: Callable[[Session], tuple[int, dict[str, Any] | None, int | None]], *,
             same_body: bool = True) -> Once:
    """Run `work` in a transaction unless this user already sent `key` for `scope`: then answer as
    the first time. `same_body`: the same key with another body is refused (an API client's
    mistake); a page's form token answers with the first submission whatever was changed since."""
    if key is None or principal.user_id is None:
        with ctx.transaction() as s:
            return Once(*work(s))
    for attempt in range(2):
        try:
            with ctx.transaction() as s:
                found = repository.request_key(s, principal.user_id, scope, key)
                if found is not None:
                    if same_body and found.request_sha256 != body_sha256:
                        raise Conflict(Msg(N_("This Idempotency-Key was used before for a different request: "
                                              "send a new key for a new request.")))
                    audit.append(s, ctx.keyring, principal, [audit.Access(
                        "replay", "host_request", str(found.id), {"scope": scope})])
                    return Once(found.status_code, found.response, found.notification_id, replayed=True)
                status_code, response, notification_id = work(s)
                s.add(HostRequestKey(user_id=principal.user_id, scope=scope, key=key, request_sha256=body_sha256,
                                     status_code=status_code, response=response, notification_id=notification_id))
                s.flush()
                return Once(status_code, response, notification_id)
        except IntegrityError:
            if attempt:
                raise
            # The same submission, sent twice at once, was stored by the other request: answer as it did.
    raise AssertionError("unreachable")


# -- the address, chosen from the pack's settlements ---------------------------------------------------

def settlement_label(pack: JurisdictionPack, place: Settlement, lang: str) -> str:
    """How a settlement is offered in a list: its name, and its region's unless it is one itself."""
    region = pack.region_for_kato(place.kato)
    name = place.name(lang)
    if region is None or region.name(lang) == name or place.kind == "city_republican":
        return name
    return f"{name}, {region.name(lang)}"


def settlement_for(pack: JurisdictionPack, text: str) -> Settlement | None:
    """The settlement a host chose: by its list label or name in any interface language (a name
    two settlements share must come with its region), or by its 9-digit KATO code."""
    wanted = " ".join(text.casefold().split())
    if not wanted:
        return None
    if wanted.isdigit():
        return pack.settlement(wanted)
    by_label = [s for s in pack.settlements for lang in pack.locales
                if settlement_label(pack, s, lang).casefold() == wanted]
    if by_label:
        return by_label[0]
    by_name = {s.kato: s for s in pack.settlements for n in s.names.values() if n.casefold() == wanted}
    return next(iter(by_name.values())) if len(by_name) == 1 else None
