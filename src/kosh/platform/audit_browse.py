"""The audit trail as an auditor reads it: filtered, counted and paged, one record in full, the
chain checked, and the filtered records exported as CSV. Every one of these reads is itself
written to the trail.

Who: those with the `audit.read` permission — auditors, and admins (who hold every permission).

Filters: the user (exact username), the person (their id: records about them, and lists or
searches whose detail names them), the action, words in the purpose (case-insensitive; on
SQLite only for Latin letters), and a range of days in the jurisdiction's time zone.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from kosh.platform import audit, csvsafe
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, Forbidden, NotFound, ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import Permission, Principal
from kosh.platform.words import N_, Msg, field_labels

MAY_NOT_READ = N_("Only auditors may read the audit trail.")
NO_RECORD = N_("There is no audit record %(seq)s.")
BAD_USER = N_("A username has 1 to 80 lower-case letters, digits, '.', '_' or '-'.")
BAD_PERSON = N_("A person's id has up to 36 letters, digits and dashes.")
BAD_ACTION = N_("Choose an action from the list.")
BAD_PURPOSE = N_("Search the purpose with at most %(max)s characters.")
BAD_DAY = N_("Give the day as a date, for example 2026-03-31.")
DAYS_REVERSED = N_("The first day must not be after the last day.")
EXPORT_TOO_LARGE = N_("The filtered records are more than %(max)s; narrow the filters to export them.")

# "person" is labelled by people ("Person"), one label a name
field_labels({"user": N_("User"), "action": N_("Action"), "since": N_("From"), "until": N_("To")})

# Every action services write, in words (an action not listed here is shown as it is stored).
ACTIONS: dict[str, str] = {
    "read": N_("Read a record"), "search": N_("Searched"), "list": N_("Listed"), "export": N_("Exported"),
    "create": N_("Created"), "update": N_("Updated"), "delete": N_("Deleted"), "import": N_("Imported"),
    "merge": N_("Merged persons"), "unmerge": N_("Undid a merge"), "decide": N_("Decided on a pair"),
    "link": N_("Linked persons"), "rebuild": N_("Rebuilt the person index"), "scan": N_("Looked for duplicates"),
    "break_glass": N_("Opened break-glass access"), "break_glass_end": N_("Ended break-glass access"),
    "retention": N_("Ran retention"), "login": N_("Signed in"), "activate": N_("Reactivated an account"),
    "deactivate": N_("Deactivated an account"), "revoke": N_("Revoked API tokens"),
    "purpose": N_("Stated a purpose"), "verify": N_("Checked the audit chain"),
}
# What a record is about, in words (a type not listed here is shown as it is stored).
SUBJECTS: dict[str, str] = {
    "person": N_("Person"), "persons": N_("Persons"), "user": N_("User account"), "api_token": N_("API token"),
    "web_session": N_("Web session"), "audit_log": N_("Audit trail"), "identity_candidate": N_("Possible duplicate"),
    "identity_candidates": N_("Possible duplicates"), "person_merges": N_("Merges of a person"),
    "break_glass_grants": N_("Break-glass accesses"), "host_notification": N_("Arrival notification"),
    "border_event": N_("Border crossing"), "residence_permit": N_("Residence permit"),
    "retention": N_("Retention"), "retention_run": N_("Retention run"),
}
# Where a broken chain is, in words, by the check that failed (`audit.VerifyResult.problem`).
BREAKS = {
    "missing": N_("Record %(seq)s is missing: it was removed."),
    "link": N_("Record %(seq)s does not link to the record before it: records were removed or put in."),
    "altered": N_("Record %(seq)s was altered: its MAC does not match what it says."),
    "head": N_("The trail ends before record %(seq)s, but its head says it goes on: records at the end were "
               "removed."),
    "head-tag": N_("The head of the trail (record %(seq)s) was set by hand: its tag is not valid."),
    "checkpoint": N_("A signed checkpoint does not match the trail: it was cut and grew again."),
}
PAGE_SIZE = 50
EXPORT_MAX = 100_000
_USER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_PERSON = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_ACTION = re.compile(r"^[a-z_]{1,40}$")
COLUMNS = ["seq", "at", "actor", "role", "purpose", "action", "subject_type", "subject_id", "detail", "prev_mac", "mac"]


@dataclass(frozen=True)
class Filters:
    user: str = ""
    person: str = ""
    action: str = ""
    purpose: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def said(self) -> dict[str, str]:
        """The filters given, as the query of a link and the detail of an audit record."""
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in self.__dict__.items() if v}


def _day(value: str, name: str, errors: list[FieldError]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(name, Msg(BAD_DAY)))
        return None


def filters(user: str = "", person: str = "", action: str = "", purpose: str = "", since: str = "",
            until: str = "") -> Filters:
    """The filters from a form or query, each checked; ValidationFailed names every bad one."""
    user, person, action, purpose = (v.strip() for v in (user, person, action, purpose))
    errors: list[FieldError] = []
    if user and not _USER.match(user.lower()):
        errors.append(FieldError("user", Msg(BAD_USER)))
    if person and not _PERSON.match(person):
        errors.append(FieldError("person", Msg(BAD_PERSON)))
    if action and not _ACTION.match(action):
        errors.append(FieldError("action", Msg(BAD_ACTION)))
    if len(purpose) > 200 or any(not c.isprintable() for c in purpose):
        errors.append(FieldError("purpose", Msg(BAD_PURPOSE, max=200)))
    first, last = _day(since.strip(), "since", errors), _day(until.strip(), "until", errors)
    if first and last and first > last:
        errors.append(FieldError("since", Msg(DAYS_REVERSED)))
    if errors:
        raise ValidationFailed(errors)
    return Filters(user.lower(), person, action, purpose, first, last)


def may_read(principal: Principal) -> None:
    if not principal.can(Permission.AUDIT_READ):
        raise Forbidden(Msg(MAY_NOT_READ))


def _local_midnight(ctx: Context, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ctx.pack.zone).astimezone(dt.UTC)


def _where(ctx: Context, f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.user:
        where.append(AuditRecord.actor == f.user)
    if f.person:
        # The records about the person, and lists and searches whose detail names them (an id is
        # a UUID: as a quoted string it names nothing else).
        where.append(or_(AuditRecord.subject_id == f.person,
                         AuditRecord.detail.contains(f'"{f.person}"', autoescape=True)))
    if f.action:
        where.append(AuditRecord.action == f.action)
    if f.purpose:
        where.append(AuditRecord.purpose.icontains(f.purpose, autoescape=True))
    if f.since:
        where.append(AuditRecord.at >= _local_midnight(ctx, f.since))
    if f.until:
        where.append(AuditRecord.at < _local_midnight(ctx, f.until + dt.timedelta(days=1)))
    return where


def _aware(rec: AuditRecord) -> AuditRecord:
    if rec.at.tzinfo is None:  # SQLite gives back naive datetimes; they were stored in UTC
        rec.at = rec.at.replace(tzinfo=dt.UTC)
    return rec


@dataclass(frozen=True)
class Page:
    records: list[AuditRecord]
    total: int
    offset: int
    limit: int
    upto: int  # the newest record the pages count: reading them (audited) adds records, which must not shift them


def search(session: Session, ctx: Context, principal: Principal, f: Filters, *, offset: int = 0,
           limit: int | None = None, upto: int | None = None) -> Page:
    """The records matching `f` up to record `upto` (default: the newest now), newest first,
    with how many match in all; audited."""
    may_read(principal)
    limit = limit or PAGE_SIZE
    if upto is None:
        upto = session.execute(select(func.max(AuditRecord.seq))).scalar_one() or 0
    where = [*_where(ctx, f), AuditRecord.seq <= upto]
    total = session.execute(select(func.count()).select_from(AuditRecord).where(*where)).scalar_one()
    rows = [_aware(r) for r in session.execute(select(AuditRecord).where(*where).order_by(AuditRecord.seq.desc())
                                               .offset(offset).limit(limit)).scalars()]
    session.expunge_all()  # read only: the records appended below must not flush these
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "search", "audit_log", "*", {"filters": f.said(), "total": total, "shown": [r.seq for r in rows]})])
    return Page(rows, total, offset, limit, upto)


def after(session: Session, ctx: Context, principal: Principal, f: Filters, *, after_seq: int = 0,
          limit: int = 100) -> tuple[list[AuditRecord], int]:
    """The API's reading: oldest first from a sequence number, and how many match in all; audited."""
    may_read(principal)
    where = _where(ctx, f)
    total = session.execute(select(func.count()).select_from(AuditRecord).where(*where)).scalar_one()
    rows = [_aware(r) for r in session.execute(select(AuditRecord).where(AuditRecord.seq > after_seq, *where)
                                               .order_by(AuditRecord.seq).limit(limit)).scalars()]
    session.expunge_all()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "read", "audit_log", f"{after_seq + 1}+", {"count": len(rows), "filters": f.said(), "total": total})])
    return rows, total


def one(session: Session, ctx: Context, principal: Principal, seq: int) -> AuditRecord:
    """One record in full; audited."""
    may_read(principal)
    rec = session.get(AuditRecord, seq) if 0 < seq < 2**31 else None
    if rec is None:
        raise NotFound(Msg(NO_RECORD, seq=seq))
    _aware(rec)
    session.expunge(rec)
    audit.append(session, ctx.keyring, principal, [audit.Access("read", "audit_log", str(seq))])
    return rec


def detail_items(rec: AuditRecord) -> list[tuple[str, str]]:
    """The record's detail as (key, value) pairs to show; a detail that is not an object shows as it is."""
    try:
        data: Any = json.loads(rec.detail or "{}")
    except ValueError:
        return [("", rec.detail)]
    if not isinstance(data, dict):
        return [("", rec.detail)]
    return [(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in data.items()]


@dataclass(frozen=True)
class ChainCheck:
    result: audit.VerifyResult
    where: str  # the key of BREAKS for a broken chain, else ""


def check_chain(session: Session, ctx: Context, principal: Principal) -> ChainCheck:
    """Verify the whole chain (`audit.verify`); running the check is audited, after it."""
    may_read(principal)
    result = audit.verify(session, ctx.keyring)
    where = ""
    if not result.ok:
        if result.problem == "record":
            where = ("missing" if "missing" in result.reason else "link" if "does not link" in result.reason
                     else "altered")
        else:
            where = result.problem if result.problem in BREAKS else "head"
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "verify", "audit_log", "chain", {"ok": result.ok, "checked": result.checked,
                                         "first_broken_seq": result.first_broken_seq, "problem": result.problem})])
    return ChainCheck(result, where)


def export_csv(session: Session, ctx: Context, principal: Principal, f: Filters) -> tuple[str, int]:
    """The filtered records, oldest first, as CSV safe to open in a spreadsheet; audited with the
    filters and how many records left."""
    may_read(principal)
    where = _where(ctx, f)
    total = session.execute(select(func.count()).select_from(AuditRecord).where(*where)).scalar_one()
    if total > EXPORT_MAX:
        raise ValidationFailed([FieldError("filters", Msg(EXPORT_TOO_LARGE, max=EXPORT_MAX))])
    out = io.StringIO()
    rows = ({c: (_aware(r).at.isoformat() if c == "at" else getattr(r, c)) for c in COLUMNS}
            for r in session.execute(select(AuditRecord).where(*where).order_by(AuditRecord.seq)).scalars())
    csvsafe.write_rows(out, COLUMNS, rows)
    session.expunge_all()
    audit.append(session, ctx.keyring, principal, [audit.Access(
        "export", "audit_log", "*", {"filters": f.said(), "count": total})])
    return out.getvalue(), total
