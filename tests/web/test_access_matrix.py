"""A standing guard of the access model: every route (from the OpenAPI document and the page
routes) called as every role and anonymously, with in-scope, out-of-scope and absent objects.

It asserts: (a) no 5xx ever; (b) anonymous callers get 401 (API) or a redirect to the sign-in
page (pages) everywhere but the public routes; (c) a role without the route's permission
(ROUTES below, one line per route) never gets a 2xx, an out-of-scope or absent object gives 404
and an out-of-region write 403; (d) no reply (JSON, HTML, headers) to an officer of another
region, or to a role that reads no person, holds any marker of a person out of its scope (ids,
document numbers, spellings, address, host name, birth date, permit purpose) but the values the
caller sent itself; (e) the border feed reads nothing. A route missing from ROUTES fails the test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

import factories as f
from kosh.flows import intake
from kosh.identity.models import IdentityCandidate
from kosh.platform import auth
from kosh.platform.identifiers import iin
from kosh.platform.security import ROLE_PERMISSIONS, Principal, Role
from kosh.platform.security import Permission as P
from web.conftest import PASSWORD, token_for

# -- the route table ------------------------------------------------------------------------
# Kinds: PUBLIC (anyone, signed in or not), ACCOUNT (any signed-in user, about their own
# account), FORM (an empty form), READ (shows registry data), WRITE (changes something).
PUBLIC, ACCOUNT, FORM, READ, WRITE = "public", "account", "form", "read", "write"


def any_of(*perms: P) -> frozenset[P]:
    return frozenset(perms)


def all_of(*perms: P) -> tuple[P, ...]:
    return perms


ROUTES: dict[tuple[str, str], tuple[str, Any]] = {
    # API
    ("GET", "/api/v1/openapi.json"): (PUBLIC, None),
    ("GET", "/api/v1/docs"): (PUBLIC, None),
    ("POST", "/api/v1/auth/tokens"): (PUBLIC, None),
    ("GET", "/api/v1/auth/tokens"): (ACCOUNT, None),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): (WRITE, None),  # one's own token; admins anyone's
    ("GET", "/api/v1/me"): (ACCOUNT, None),
    ("GET", "/api/v1/users"): (READ, P.USERS_MANAGE),
    ("GET", "/api/v1/users/{username}/tokens"): (READ, P.USERS_MANAGE),
    ("DELETE", "/api/v1/users/{username}/tokens"): (WRITE, P.USERS_MANAGE),
    ("POST", "/api/v1/users/{username}/deactivate"): (WRITE, P.USERS_MANAGE),
    ("POST", "/api/v1/users/{username}/activate"): (WRITE, P.USERS_MANAGE),
    ("GET", "/api/v1/audit/records"): (READ, P.AUDIT_READ),
    ("GET", "/api/v1/audit/verify"): (READ, P.AUDIT_READ),
    ("POST", "/api/v1/persons"): (WRITE, P.PERSON_WRITE),
    ("POST", "/api/v1/persons/search"): (READ, P.PERSON_READ),
    ("GET", "/api/v1/persons/{person_id}"): (READ, P.PERSON_READ),
    ("GET", "/api/v1/persons/{person_id}/stay"): (READ, all_of(P.STAY_READ, P.PERSON_READ)),
    ("GET", "/api/v1/persons/{person_id}/merges"): (READ, P.PERSON_READ),
    ("POST", "/api/v1/persons/{person_id}/merge"): (WRITE, P.IDENTITY_MERGE),
    ("POST", "/api/v1/merges/{merge_id}/undo"): (WRITE, P.IDENTITY_MERGE),
    ("POST", "/api/v1/break-glass"): (WRITE, P.BREAK_GLASS),
    ("GET", "/api/v1/break-glass"): (READ, any_of(P.AUDIT_READ, P.BREAK_GLASS)),
    ("POST", "/api/v1/break-glass/{grant_id}/end"): (WRITE, P.BREAK_GLASS),  # one's own grant; admins any
    ("POST", "/api/v1/border-events"): (WRITE, P.BORDER_EVENT_WRITE),
    ("POST", "/api/v1/border-events/bulk"): (WRITE, P.BORDER_EVENT_WRITE),
    ("POST", "/api/v1/notifications"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/api/v1/notifications/mine"): (READ, P.NOTIFICATION_READ),
    # the host workspace: a host's own notifications only (others, and callers no host, get 403 or 404)
    ("POST", "/api/v1/host/notifications"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/api/v1/host/guests"): (READ, P.NOTIFICATION_READ),
    ("GET", "/api/v1/host/guests/{notification_id}"): (READ, P.NOTIFICATION_READ),
    ("POST", "/api/v1/host/guests/{notification_id}/correction"): (WRITE, P.NOTIFICATION_WRITE),
    ("POST", "/api/v1/host/guests/{notification_id}/cancellation"): (WRITE, P.NOTIFICATION_WRITE),
    ("POST", "/api/v1/host/guests/{notification_id}/departure"): (WRITE, P.NOTIFICATION_WRITE),
    ("POST", "/api/v1/residence-permits"): (WRITE, P.PERMIT_WRITE),
    ("GET", "/api/v1/stay/overstays"): (READ, P.STAY_READ),
    ("GET", "/api/v1/stay/overdue-notifications"): (READ, P.STAY_READ),
    ("GET", "/api/v1/stay/overstays/export"): (READ, P.STAY_READ),  # needs X-Purpose: 422 without
    ("GET", "/api/v1/stay/overdue-notifications/export"): (READ, P.STAY_READ),
    ("GET", "/api/v1/stay/violations"): (READ, P.STAY_READ),
    ("POST", "/api/v1/stay/calculate"): (PUBLIC, None),
    ("POST", "/api/v1/public/status"): (PUBLIC, None),  # one's own status (no account)
    ("POST", "/api/v1/public/status/verify"): (PUBLIC, None),
    ("POST", "/api/v1/identity/scan"): (WRITE, P.IDENTITY_MERGE),
    ("GET", "/api/v1/identity/candidates"): (READ, P.IDENTITY_MERGE),
    ("GET", "/api/v1/identity/candidates/{candidate_id}"): (READ, P.IDENTITY_MERGE),
    ("POST", "/api/v1/identity/candidates/{candidate_id}/decision"): (WRITE, P.IDENTITY_MERGE),
    # pages
    ("MOUNT", "/static"): (PUBLIC, None),
    ("GET", "/"): (PUBLIC, None),
    ("GET", "/login"): (PUBLIC, None),
    ("POST", "/login"): (PUBLIC, None),
    ("GET", "/calculator"): (PUBLIC, None),
    ("GET", "/status"): (PUBLIC, None),  # migrants: check my status (no account)
    ("GET", "/status/check"): (PUBLIC, None),
    ("POST", "/status/check"): (PUBLIC, None),
    ("POST", "/status/proof"): (PUBLIC, None),
    ("GET", "/status/verify"): (PUBLIC, None),
    ("POST", "/status/verify"): (PUBLIC, None),
    ("POST", "/logout"): (ACCOUNT, None),
    ("GET", "/admin/users"): (READ, P.USERS_MANAGE),
    ("GET", "/admin/users/{username}"): (READ, P.USERS_MANAGE),
    ("GET", "/admin/users/{username}/confirm"): (READ, P.USERS_MANAGE),
    ("POST", "/admin/users/{username}/{action}"): (WRITE, P.USERS_MANAGE),
    ("GET", "/persons"): (FORM, P.PERSON_READ),
    ("POST", "/persons"): (READ, P.PERSON_READ),
    ("GET", "/persons/{person_id}"): (READ, all_of(P.STAY_READ, P.PERSON_READ)),
    ("GET", "/access/new"): (FORM, P.BREAK_GLASS),
    ("POST", "/access"): (WRITE, P.BREAK_GLASS),
    ("GET", "/access"): (READ, any_of(P.AUDIT_READ, P.BREAK_GLASS)),
    ("POST", "/access/{grant_id}/end"): (WRITE, P.BREAK_GLASS),
    ("GET", "/stay/overstays"): (READ, P.STAY_READ),
    ("GET", "/stay/overdue-notifications"): (READ, P.STAY_READ),
    ("POST", "/stay/overstays/export"): (READ, P.STAY_READ),
    ("POST", "/stay/overdue-notifications/export"): (READ, P.STAY_READ),
    ("GET", "/stay/violations"): (READ, P.STAY_READ),
    ("GET", "/notifications/new"): (FORM, P.NOTIFICATION_WRITE),
    ("POST", "/notifications/new"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/notifications/recorded"): (FORM, P.NOTIFICATION_WRITE),
    ("GET", "/notifications/mine"): (READ, P.NOTIFICATION_READ),
    ("GET", "/host"): (PUBLIC, None),
    ("GET", "/host/settlements"): (PUBLIC, None),
    ("GET", "/host/notify"): (FORM, P.NOTIFICATION_WRITE),
    ("POST", "/host/notify"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/host/guests"): (READ, P.NOTIFICATION_READ),
    ("GET", "/host/guests/{notification_id}"): (READ, P.NOTIFICATION_READ),
    ("GET", "/host/guests/{notification_id}/confirmation"): (READ, P.NOTIFICATION_READ),
    ("GET", "/host/guests/{notification_id}/receipt"): (READ, P.NOTIFICATION_READ),
    ("GET", "/host/guests/{notification_id}/correct"): (READ, P.NOTIFICATION_WRITE),
    ("POST", "/host/guests/{notification_id}/correct"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/host/guests/{notification_id}/cancel"): (READ, P.NOTIFICATION_WRITE),
    ("POST", "/host/guests/{notification_id}/cancel"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/host/guests/{notification_id}/departure"): (READ, P.NOTIFICATION_WRITE),
    ("POST", "/host/guests/{notification_id}/departure"): (WRITE, P.NOTIFICATION_WRITE),
    ("GET", "/import"): (FORM, P.IMPORT),
    ("POST", "/import"): (WRITE, P.IMPORT),
    ("GET", "/import/batches/{batch_id}"): (READ, P.IMPORT),  # one's own batches; admins any
    ("GET", "/import/rejects/{batch_id}"): (READ, P.IMPORT),  # one's own batches; admins any
    ("GET", "/import/history"): (ACCOUNT, P.IMPORT),  # one's own imports (file names, counts); admins all
    ("GET", "/purpose"): (FORM, any_of(P.PERSON_READ, P.AUDIT_READ, P.AGGREGATES_READ)),
    ("POST", "/purpose"): (WRITE, any_of(P.PERSON_READ, P.AUDIT_READ, P.AGGREGATES_READ)),  # a web session's
    ("GET", "/audit"): (READ, P.AUDIT_READ),
    ("GET", "/audit/records/{seq}"): (READ, P.AUDIT_READ),
    ("GET", "/audit/export.csv"): (READ, P.AUDIT_READ),
    ("POST", "/audit/verify"): (WRITE, P.AUDIT_READ),  # reads the chain; the check itself is audited
    ("GET", "/identity/review"): (READ, P.IDENTITY_MERGE),
    ("POST", "/identity/review/scan"): (WRITE, P.IDENTITY_MERGE),
    ("GET", "/identity/review/{candidate_id}"): (READ, P.IDENTITY_MERGE),
    ("POST", "/identity/review/{candidate_id}/decision"): (WRITE, P.IDENTITY_MERGE),
    ("POST", "/identity/merges/{merge_id}/undo"): (WRITE, P.IDENTITY_MERGE),
    # work permits: employers (their own, by the account's BIN/IIN), akimats (their regions),
    # the ministry (quotas, every permit), anyone (the check of a permit's code)
    ("GET", "/api/v1/employers/me"): (READ, P.WORK_PERMIT_APPLY),
    ("PUT", "/api/v1/employers/me"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/api/v1/employers/me/workforce"): (READ, P.WORK_PERMIT_APPLY),
    ("POST", "/api/v1/permits/checks"): (READ, P.WORK_PERMIT_APPLY),
    ("POST", "/api/v1/permits"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/api/v1/permits"): (READ, any_of(P.WORK_PERMIT_APPLY, P.WORK_PERMIT_READ)),
    ("GET", "/api/v1/permits/reminders"): (READ, any_of(P.WORK_PERMIT_APPLY, P.WORK_PERMIT_READ)),
    ("GET", "/api/v1/permits/{reference}"): (READ, any_of(P.WORK_PERMIT_APPLY, P.WORK_PERMIT_READ)),
    ("POST", "/api/v1/permits/{reference}/steps"): (WRITE, any_of(P.WORK_PERMIT_APPLY, P.WORK_PERMIT_READ)),
    ("GET", "/api/v1/permits/{reference}/application"): (READ, P.WORK_PERMIT_APPLY),
    ("PUT", "/api/v1/permits/{reference}/application"): (WRITE, P.WORK_PERMIT_APPLY),
    ("POST", "/api/v1/permits/{reference}/contract-end"): (WRITE, P.WORK_PERMIT_APPLY),
    ("POST", "/api/v1/permits/{reference}/employer-change"): (WRITE, P.WORK_PERMIT_DECIDE),
    ("GET", "/api/v1/quotas"): (READ, P.AGGREGATES_READ),
    ("PUT", "/api/v1/quotas/{year}/{region}/{category}"): (WRITE, P.QUOTA_MANAGE),
    ("POST", "/api/v1/quotas/{year}/redistribute"): (WRITE, P.QUOTA_MANAGE),
    ("POST", "/api/v1/public/permits/verify"): (PUBLIC, None),
    ("GET", "/employer"): (PUBLIC, None),  # the start page; an employer's own details and permits below it
    ("GET", "/employer/details"): (FORM, P.WORK_PERMIT_APPLY),
    ("POST", "/employer/details"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/employer/apply"): (FORM, P.WORK_PERMIT_APPLY),
    ("POST", "/employer/apply"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/employer/permits/{reference}"): (READ, P.WORK_PERMIT_APPLY),
    ("GET", "/employer/permits/{reference}/confirmation"): (READ, P.WORK_PERMIT_APPLY),
    ("POST", "/employer/permits/{reference}/steps"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/employer/permits/{reference}/correct"): (READ, P.WORK_PERMIT_APPLY),
    ("POST", "/employer/permits/{reference}/correct"): (WRITE, P.WORK_PERMIT_APPLY),
    ("POST", "/employer/permits/{reference}/contract-end"): (WRITE, P.WORK_PERMIT_APPLY),
    ("GET", "/permits/queue"): (READ, P.WORK_PERMIT_DECIDE),
    ("GET", "/permits"): (READ, P.WORK_PERMIT_READ),
    ("GET", "/permits/{reference}"): (READ, P.WORK_PERMIT_READ),
    ("POST", "/permits/{reference}/step"): (WRITE, P.WORK_PERMIT_READ),
    ("POST", "/permits/{reference}/employer-change"): (WRITE, P.WORK_PERMIT_DECIDE),
    ("GET", "/permits/{reference}/certificate"): (READ, any_of(P.WORK_PERMIT_APPLY, P.WORK_PERMIT_READ)),
    ("GET", "/quotas"): (READ, P.AGGREGATES_READ),
    ("POST", "/quotas/set"): (WRITE, P.QUOTA_MANAGE),
    ("POST", "/quotas/move"): (WRITE, P.QUOTA_MANAGE),
    ("POST", "/quotas/import"): (WRITE, P.QUOTA_MANAGE),
    ("GET", "/verify"): (PUBLIC, None),
    ("POST", "/verify"): (PUBLIC, None),
    ("GET", "/verify/key.pem"): (PUBLIC, None),
}

# Who calls: username -> role; None is the anonymous caller. Ordered so that refused callers go
# first and the callers whose writes succeed (in-scope officers, then admins) last.
CALLERS: dict[str | None, Role | None] = {
    None: None, "host": Role.HOST, "analyst": Role.ANALYST, "auditor": Role.AUDITOR, "border": Role.BORDER,
    "north": Role.OFFICER, "almaty": Role.OFFICER, "south": Role.OFFICER, "admin": Role.ADMIN,
}
REGIONS = {"almaty": ("75",), "south": ("61", "79"), "north": ("19",)}
# The officers each side's persons are out of scope for.
OUT_OF_SCOPE = {"T": {"almaty", "north"}, "A": {"south", "north"}}
# Roles that read no person at all: no marker of anyone may reach them.
READ_NO_PERSON = {None, "host", "analyst", "border"}
# What the border feed may get a 2xx for: nothing that shows registry data.
BORDER_MAY_SEE = {PUBLIC, ACCOUNT, FORM}
MISSING_UUID = "00000000-0000-4000-8000-000000000000"
MOVED = {("GET", "/notifications/mine")}  # kept for bookmarks: a redirect to the host's guests
MISSING_ID = "999999"
OTHER_IIN = next(x for s in range(1, 50) if (x := iin.make(dt.date(1971, 2, 3), "F", s)))


def permitted(role: Role | None, need: Any) -> bool:
    if role is None:
        return False
    perms = ROLE_PERMISSIONS[role]
    if need is None:
        return True
    if isinstance(need, frozenset):
        return bool(need & perms)
    if isinstance(need, tuple):
        return all(p in perms for p in need)
    return need in perms


def _flatten(routes: list) -> Iterator[Any]:
    # FastAPI ≥ 0.16x keeps included routers as one entry each; older versions list every route.
    for r in routes:
        inner = getattr(r, "effective_candidates", None)
        if callable(inner):
            yield from _flatten(inner())
        else:
            yield r


def app_routes(client) -> set[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document and every route of the app."""
    found = set()
    spec = client.get("/api/v1/openapi.json").json()
    for path, item in spec["paths"].items():
        found |= {(m.upper(), path) for m in item if m in ("get", "post", "put", "patch", "delete")}
    for r in _flatten(client.app.routes):
        methods = getattr(r, "methods", None)
        if methods is None:
            found.add(("MOUNT", r.path))
            continue
        found |= {(m, r.path) for m in methods if m != "HEAD"}
    return found


# -- the world ------------------------------------------------------------------------------

@dataclass
class World:
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]  # T, T2 (merged into T), T3, A, A2, Z (a decoy for break-glass writes)
    merge_t: str
    cand_t: str
    cand_a: str
    batch: str
    grant: str
    victim_token: str
    markers: dict[str, set[str]]  # side -> marker values
    id_markers: dict[str, set[str]]  # side -> person ids (auditors may see ids: the audit trail names them)
    seq: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**6)))
    note_t: str = ""  # T's notification (made as another host party: no caller's own)
    note_h: str = ""  # the host's own notification (its workspace shows it to the host alone)

    def side_of(self, name: str, value: str) -> str | None:
        """Whose object a path parameter names: a person of Turkistan (T) or of Almaty (A)."""
        if name == "person_id":
            return next((side for side, ids in self.id_markers.items() if value in ids), None)
        if name == "merge_id":
            return "T" if value == self.merge_t else None
        if name == "candidate_id":
            return {self.cand_t: "T", self.cand_a: "A"}.get(value)
        return None


def _ok(r, status: int = 201) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def _write_ids(client, h, path: str, body: dict) -> str:
    (pid,) = _ok(client.post(path, json=body, headers=h))["person_ids"]
    return pid


@pytest.fixture
def world(ctx, client, users, tmp_path) -> World:
    ctx.settings.identity_link_at_ingest = False  # merges and candidates are made here, deterministically
    with ctx.transaction() as s:
        for name, role, regions in [("auditor", "auditor", []), ("north", "officer", ["19"]),
                                    ("victim", "officer", ["55"])]:
            auth.create_user(s, ctx, username=name, password=PASSWORD, role=role, regions=regions)
    headers = {name: token_for(client, name) for name in CALLERS if name}
    h = headers["admin"]
    note, cross = "/api/v1/notifications", "/api/v1/border-events"
    common = {"host_id": OTHER_IIN, "citizenship": "UZB", "issuing_state": "UZB", "arrival_date": "2025-01-05"}
    t = _write_ids(client, h, note, f.notification(
        **common, surname="Туркистанов", given_names="Жибекбек", patronymic="Оралович", birth_date="1961-06-11",
        document_number="TK0617001", kato="611010000", address="TURKADDRESS 61, Kentau", host_name="Turkhostname Oraz"))
    _write_ids(client, h, cross, f.border_event(
        checkpoint="ZHIBEK-ZHOLY", occurred_at="2025-01-04T09:00:00+05:00", document_number="TK0617001",
        surname="TURKISTANOV", given_names="ZHIBEKBEK", birth_date="1961-06-11"))
    t2 = _write_ids(client, h, note, f.notification(
        **common, surname="Туркистанова", given_names="Сайрамгуль", patronymic="", sex="F", birth_date="1963-03-13",
        document_number="TK0617002", kato="611010000", address="TURKADDRESS 62, Sairam", host_name="Turkhostname Oraz"))
    t3 = _write_ids(client, h, cross, f.border_event(
        checkpoint="ZHIBEK-ZHOLY", occurred_at="2025-06-01T09:00:00+05:00", document_number="TK0617003",
        surname="TURKISTANOVICH", given_names="OTYRARBEK", birth_date="1966-06-16"))
    a = _write_ids(client, h, note, f.notification(
        **common, surname="Алматинов", given_names="Апортбек", patronymic="Медеуович", birth_date="1975-07-17",
        document_number="AL0751001", kato="751710000", address="ALMADDRESS 75, Medeu", host_name="Almhostname Bek"))
    _write_ids(client, h, cross, f.border_event(
        checkpoint="ALA-AIRPORT", occurred_at="2025-01-04T09:00:00+05:00", document_number="AL0751001",
        surname="ALMATINOV", given_names="APORTBEK", birth_date="1975-07-17"))
    a2 = _write_ids(client, h, cross, f.border_event(
        checkpoint="ALA-AIRPORT", occurred_at="2025-06-01T09:00:00+05:00", document_number="AL0751002",
        surname="ALMATINSKY", given_names="KOKTOBEBEK", birth_date="1977-07-27"))
    z = _write_ids(client, h, note, f.notification(
        **common, surname="DECOYEV", given_names="PAVEL", birth_date="1955-05-05", document_number="ZZ0551001",
        kato="551010000", address="Pavlodar 1", host_name="Decoy Host"))
    merge = _ok(client.post(f"/api/v1/persons/{t}/merge", json={"other": t2, "reason": "one person"}, headers=h))
    assert merge["kept_id"] == t and merge["merged_id"] == t2
    cands = {}
    with ctx.transaction() as s:
        for side, (x, y, ax, bx) in {"T": (t, t3, "TURKISTANOV", "TURKISTANOVICH"),
                                     "A": (a, a2, "ALMATINOV", "ALMATINSKY")}.items():
            row = IdentityCandidate(person_a=min(x, y), person_b=max(x, y), weight=3.5, scorer="test",
                                    evidence=json.dumps([{"field": "surname", "level": "similar", "weight": 3.5,
                                                          "a": ax, "b": bx}]))
            s.add(row)
            s.flush()
            cands[side] = str(row.id)
    # An import batch of the admin's whose rejects file names a document number.
    permits = tmp_path / "permits.csv"
    permits.write_text("source_event_id,document_number,issuing_state,kind,purpose,valid_from,valid_to,kato\n"
                       "TP-1,TK0617001,UZB,trp,TURKPURPOSE,2025-02-01,2025-02-28,611010000\n"
                       "TP-2,TK0REJECT1,UZB,trp,TURKPURPOSE,2025-02-01,2025-02-28,611010000\n", encoding="utf8")
    with ctx.transaction() as s:
        admin_user = auth.user_by_name(s, "admin")
        principal = Principal("admin", Role.ADMIN, user_id=admin_user.id)
    report = intake.import_file(ctx, principal, permits, "residence_permits")
    assert report.accepted == 1 and report.rejected == 1
    victim = token_for(client, "victim")
    grant = _ok(client.post("/api/v1/break-glass", json={"person_id": t, "purpose": "case 55/2026 for the matrix",
                                                          "hours": 8}, headers=victim))
    (victim_token,) = [tk["id"] for tk in _ok(client.get("/api/v1/auth/tokens", headers=victim), 200)]
    markers: dict[str, set[str]] = {
        "T": {"TURKADDRESS", "Turkhostname", "TURKPURPOSE", "TK0REJECT1", "1961-06-11", "1963-03-13", "1966-06-16"},
        "A": {"ALMADDRESS", "Almhostname", "1975-07-17", "1977-07-27"}}
    for side, pids in {"T": (t, t3), "A": (a, a2)}.items():
        for pid in pids:
            person = _ok(client.get(f"/api/v1/persons/{pid}", headers=h), 200)
            values = [person[k] for k in ("surname", "given_names", "patronymic", "surname_latin",
                                          "given_names_latin")] + person["spellings"]
            values += [d["number"] for d in person["documents"]]
            markers[side] |= {v for v in values if len(v) >= 5}
            markers[side] |= {w for v in values for w in v.split() if len(w) >= 6}
    assert {"TK0617001", "TK0617002", "TK0617003", "Туркистанова", "TURKISTANOV"} <= markers["T"]
    assert {"AL0751001", "AL0751002", "Алматинов", "APORTBEK"} <= markers["A"]
    ids = {"T": t, "T2": t2, "T3": t3, "A": a, "A2": a2, "Z": z}
    id_markers = {"T": {t, t2, t3}, "A": {a, a2}}
    from kosh.stay.models import HostNotification

    guest = {k: v for k, v in f.notification(surname="Hostguestov", given_names="Ownbek", document_number="HG0751001",
                                              birth_date="1988-08-08", address="Host 1").items()
             if k not in ("source_event_id", "host_kind", "host_id", "host_name", "submitted_at")}
    note_h = _ok(client.post("/api/v1/host/notifications", json=guest, headers=headers["host"]))["id"]
    with ctx.transaction() as s:
        note_t = s.execute(sa.select(HostNotification.id).where(HostNotification.person_id == t)
                           .order_by(HostNotification.id).limit(1)).scalar_one()
    return World(headers, ids, str(merge["id"]), cands["T"], cands["A"], str(report.batch_id), str(grant["id"]),
                 str(victim_token), {k: v | id_markers[k] for k, v in markers.items()}, id_markers,
                 note_t=str(note_t), note_h=str(note_h))


# -- calls ----------------------------------------------------------------------------------

@dataclass
class Call:
    method: str
    template: str
    url: str
    json: Any = None
    data: dict | None = None
    files: dict | None = None
    params: dict | None = None
    sent: list[str] = field(default_factory=list)
    hidden: bool = False  # names an object the caller may not see, or none at all: 404 if permitted
    absent: bool = False  # names no object at all
    path_values: list[str] = field(default_factory=list)
    out_of_region: bool = False  # a write in a region not the caller's: 403 if permitted
    headers: dict | None = None  # sent besides the caller's credentials (e.g. X-Purpose)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif value is not None:
        yield str(value)


def _home_kato(username: str | None) -> str:
    return {"almaty": "751710000", "south": "611010000", "north": "191010000"}.get(username or "", "751710000")


def _foreign_kato(username: str | None) -> str:
    return "611010000" if username == "almaty" else "751710000"


def _identity(w: World, **over: Any) -> dict:
    n = next(w.seq)
    return {"surname": "WRITERSON", "given_names": f"CASE{n}", "birth_date": "1988-08-08", "citizenship": "KGZ",
            "document_number": f"WR{n:07d}", "issuing_state": "KGZ"} | over


def _notification(w: World, username: str | None, kato: str) -> dict:
    who = _identity(w)
    return f.notification(**who, patronymic="", host_id=f.HOST_IIN if username == "host" else OTHER_IIN,
                          host_name="Writer Host", kato=kato, address="Writer street 1", arrival_date="2025-03-01")


def _border_event(w: World) -> dict:
    who = _identity(w)
    who.pop("citizenship")
    return f.border_event(**who, nationality="KGZ", checkpoint="ALA-AIRPORT", occurred_at="2025-03-01T09:00:00+05:00")


def _person(w: World, kato: str | None) -> dict:
    who = _identity(w)
    doc = {"number": who.pop("document_number"), "issuing_state": who.pop("issuing_state")}
    return who | {"documents": [doc]} | ({"region": kato} if kato else {})


def _permit(w: World, kato: str) -> dict:
    # A permit for a person the writer's region holds (T for Turkistan, A elsewhere): a record of
    # the same region, which opens nothing new to anyone.
    doc = "TK0617001" if kato.startswith("61") else "AL0751001"
    return {"source_event_id": f"RP-{next(w.seq)}", "document_number": doc, "issuing_state": "UZB", "kind": "visa",
            "purpose": "WRITEPURPOSE", "valid_from": "2025-03-01", "valid_to": "2025-03-10", "kato": kato}


SEARCHES = ["TK0617001", "TK0617002", "Туркистанов", "TURKISTANOV", "TURKISTANOVICH", "Сайрамгуль",
            "AL0751001", "Алматинов", "ALMATINOV", "ALMATINSKY", "TK0REJECT1"]


def _fillings(w: World, name: str, template: str) -> list[tuple[str, bool]]:
    """(value, is it an absent object) for a path parameter."""
    ids = w.ids
    table = {
        "person_id": [(ids["T"], False), (ids["A"], False), (ids["T2"], False), (ids["T3"], False),
                      (ids["A2"], False), (MISSING_UUID, True)],
        "merge_id": [(w.merge_t, False), (MISSING_ID, True)],
        "candidate_id": [(w.cand_t, False), (w.cand_a, False), (MISSING_ID, True)],
        "batch_id": [(w.batch, False), (MISSING_ID, True)],
        "grant_id": [(w.grant, False), (MISSING_ID, True)],
        "token_id": [(w.victim_token, False), (MISSING_ID, True)],
        "username": [("victim", False), ("nobody", True)],
        "seq": [("1", False), (MISSING_ID, True)],
        "notification_id": [(w.note_h, False), (w.note_t, False), (MISSING_ID, True)],
        "action": [("deactivate", False), ("activate", False), ("revoke-tokens", False), ("revoke-token", False),
                   ("bogus", True)],
        "reference": [("WP-ZZZZ-ZZZZ", True)],  # no permit: the matrix's world holds none
        "year": [("2026", False)],
        "region": [("75", False)],
        "category": [("3", False)],
    }
    if name not in table:
        pytest.fail(f"{template}: no test values for path parameter {{{name}}}: add them to _fillings")
    return table[name]


def _paths(w: World, template: str) -> list[tuple[str, dict[str, str], bool]]:
    names = re.findall(r"{(\w+)}", template)
    out: list[tuple[str, dict[str, str], bool]] = [(template, {}, False)]
    for name in names:
        out = [(url.replace("{" + name + "}", value), vals | {name: value}, missing or absent)
               for url, vals, missing in out for value, absent in _fillings(w, name, template)]
    return out


def _hidden_for(w: World, username: str | None, values: dict[str, str], absent: bool) -> bool:
    """Whether the objects named are absent or out of this caller's scope (so: 404 if permitted)."""
    if absent:
        return True
    for name, value in values.items():
        if name in ("batch_id", "grant_id", "token_id") and username != "admin":
            return True  # the admin's batch, the victim's grant and token
        if name == "notification_id" and not (value == w.note_h and username == "host"):
            return True  # a host's workspace holds only its own party's notifications
        side = w.side_of(name, value)
        if side and username in OUT_OF_SCOPE[side]:
            return True
    return False


def calls(w: World, method: str, template: str, username: str | None) -> list[Call]:
    out = []
    for url, values, absent in _paths(w, template):
        hidden = _hidden_for(w, username, values, absent)
        for call in _bodies(w, method, template, url, username, values):
            call.hidden = call.hidden or hidden
            call.absent = absent
            call.path_values = list(values.values())
            call.sent += list(values.values())
            out.append(call)
    return out


def _bodies(w: World, method: str, template: str, url: str, username: str | None,
            values: dict[str, str]) -> list[Call]:
    def c(**kw: Any) -> Call:
        return Call(method, template, url, **kw)

    home, foreign = _home_kato(username), _foreign_kato(username)
    officer = username in REGIONS
    person = values.get("person_id")
    # Merge each person with another of the same region (never with itself: that is refused first).
    other = {w.ids["T3"]: w.ids["T"], w.ids["A"]: w.ids["A2"], w.ids["A2"]: w.ids["A"]}.get(person or "", w.ids["T3"])
    match (method, template):
        case ("POST", "/stay/overstays/export" | "/stay/overdue-notifications/export"):
            form = {"purpose": "case 9/2026 for the matrix"}
            return [c(data=form), c(data=form | {"region": "61"}, out_of_region=officer and username != "south"),
                    c(data=form | {"region": "75"}, out_of_region=officer and username != "almaty")]
        case ("GET", "/api/v1/stay/overstays/export" | "/api/v1/stay/overdue-notifications/export"):
            purpose = {"X-Purpose": "case 9/2026 for the matrix"}
            return [c(headers=purpose), c(headers=purpose, params={"region": "61"},
                                          out_of_region=officer and username != "south"),
                    c(headers=purpose, params={"region": "75"}, out_of_region=officer and username != "almaty"),
                    c()]  # no purpose: 422 when permitted
        case ("GET", "/api/v1/stay/overstays" | "/api/v1/stay/overdue-notifications" | "/stay/overstays"
              | "/stay/overdue-notifications"):
            return [c(), c(params={"region": "61"}, out_of_region=officer and username != "south"),
                    c(params={"region": "75"}, out_of_region=officer and username != "almaty")]
        case ("GET", "/api/v1/stay/violations" | "/stay/violations"):
            period = {"from": "2026-01-01", "to": "2026-12-31"}
            return [c(params=period),
                    c(params={**period, "region": "61"}, out_of_region=officer and username != "south"),
                    c(params={**period, "region": "75"}, out_of_region=officer and username != "almaty")]
        case ("GET", "/admin/users/{username}/confirm"):
            return [c(params={"action": "deactivate"}),
                    c(params={"action": "revoke-token", "token_id": w.victim_token})]
        case ("GET", "/access/new"):
            return [c(params={"person": w.ids["T"]})]
        case ("GET", _):
            return [c()]
        case ("POST", "/api/v1/persons/search"):
            return [c(json={"q": q}) for q in SEARCHES]
        case ("POST", "/persons"):
            return [c(data={"q": q}) for q in SEARCHES]
        case ("POST", "/api/v1/auth/tokens"):
            return [c(json={"username": "nobody", "password": "not-the-password"})]
        case ("POST", "/login"):
            return [c(data={"username": "nobody", "password": "not-the-password", "next": "/"})]
        case ("POST", "/logout") | ("POST", "/api/v1/identity/scan") | ("POST", "/identity/review/scan"):
            return [c(data={})]
        case ("POST", "/api/v1/stay/calculate"):
            return [c(json={"citizenship": "UZB", "on": "2025-02-01", "trips": [{"start": "2025-01-01",
                                                                                  "end": "2025-01-10"}]})]
        case ("POST", "/api/v1/persons"):
            calls_ = [c(json=_person(w, home if officer else None))]
            if officer:
                calls_.append(c(json=_person(w, foreign), out_of_region=True))
            return calls_
        case ("POST", "/api/v1/notifications"):
            calls_ = [c(json=_notification(w, username, home))]
            if officer:
                calls_.append(c(json=_notification(w, username, foreign), out_of_region=True))
            return calls_
        case ("POST", "/api/v1/host/notifications" | "/api/v1/host/guests/{notification_id}/correction"):
            body = {k: v for k, v in _notification(w, username, home).items()
                    if k not in ("source_event_id", "host_kind", "host_id", "host_name", "submitted_at")}
            return [c(json=body)]
        case ("POST", "/api/v1/host/guests/{notification_id}/cancellation"):
            return [c(json={"reason": "the matrix"})]
        case ("POST", "/api/v1/host/guests/{notification_id}/departure"):
            return [c(json={"departed_on": "2025-01-10"})]
        case ("POST", "/host/notify" | "/host/guests/{notification_id}/correct"):
            return [c(data={"step": "check", "surname": "Matrixov", "settlement": "Almaty"})]
        case ("POST", "/host/guests/{notification_id}/cancel"):
            return [c(data={"reason": "the matrix"})]
        case ("POST", "/host/guests/{notification_id}/departure"):
            return [c(data={"departed_on": "2025-01-10"})]
        case ("POST", "/notifications/new"):
            form = {k: v for k, v in _notification(w, username, home).items() if k in
                    ("host_kind", "host_id", "host_name", "surname", "given_names", "sex", "birth_date",
                     "citizenship", "document_number", "issuing_state", "kato", "address", "arrival_date")}
            return [c(data=form)]
        case ("POST", "/api/v1/residence-permits"):
            calls_ = [c(json=_permit(w, "611010000" if username == "south" else home))]
            if officer:
                calls_.append(c(json=_permit(w, foreign), out_of_region=True))
            return calls_
        case ("POST", "/api/v1/border-events"):
            return [c(json=_border_event(w))]
        case ("POST", "/api/v1/border-events/bulk"):
            return [c(json={"events": [_border_event(w), _border_event(w)]})]
        case ("POST", "/api/v1/persons/{person_id}/merge"):
            return [c(json={"other": other, "reason": "the matrix"})]
        case ("POST", "/api/v1/merges/{merge_id}/undo"):
            return [c(json={"reason": "the matrix"})]
        case ("POST", "/identity/merges/{merge_id}/undo"):
            return [c(data={"reason": "the matrix", "person": w.ids["T"]})]
        case ("POST", "/api/v1/identity/candidates/{candidate_id}/decision"):
            return [c(json={"decision": "defer", "reason": "the matrix"})]
        case ("POST", "/identity/review/{candidate_id}/decision"):
            return [c(data={"decision": "defer", "reason": "the matrix"})]
        case ("POST", "/api/v1/public/status"):  # details that match no one: the same reply for anyone
            return [c(json={"citizenship": "UZB", "document_number": "ZZ0000000", "birth_date": "1990-01-01"})]
        case ("POST", "/api/v1/public/status/verify"):
            return [c(json={"code": "K7M-4QX-9TR", "birth_date": "1990-01-01"})]
        case ("POST", "/status/check" | "/status/proof"):  # no form token: refused before any look-up
            return [c(data={"citizenship": "UZB", "document_number": "ZZ0000000", "birth_date": "1990-01-01"})]
        case ("POST", "/status/verify"):
            return [c(data={"code": "K7M-4QX-9TR", "birth_date": "1990-01-01"})]
        case ("POST", "/api/v1/break-glass"):
            body = {"purpose": "case 55/2026 for the matrix", "hours": 1}
            return [c(json=body | {"person_id": w.ids["Z"]}), c(json=body | {"person_id": MISSING_UUID}, hidden=True)]
        case ("POST", "/access"):
            form = {"purpose": "case 55/2026 for the matrix", "hours": "1"}
            return [c(data=form | {"person_id": w.ids["Z"]}), c(data=form | {"person_id": MISSING_UUID}, hidden=True)]
        case ("POST", "/purpose"):
            return [c(data={"purpose": "case 55/2026 for the matrix"})]
        case ("POST", "/audit/verify"):
            return [c(data={})]
        case ("POST", "/api/v1/break-glass/{grant_id}/end") | ("POST", "/access/{grant_id}/end"):
            return [c(data={})]
        case ("POST", "/admin/users/{username}/{action}"):
            return [c(data={"token_id": w.victim_token})]
        case ("POST", "/import"):
            # An unknown kind is refused before any work (no background import); a kind the
            # caller may not import is refused by its permission.
            upload = {"file": ("rows.csv", b"source_event_id\nX-1\n", "text/csv")}
            calls_ = [c(data={"kind": "bogus"}, files=upload)]
            if not permitted(CALLERS[username], P.BORDER_EVENT_WRITE) and permitted(CALLERS[username], P.IMPORT):
                calls_.append(c(data={"kind": "border_events"}, files=upload, out_of_region=True))
            return calls_
        case (("POST", "/api/v1/permits/checks" | "/api/v1/permits")
              | ("PUT", "/api/v1/permits/{reference}/application")):
            worker = _identity(w) | {"work_region": "75"}
            return [c(json={"channel": "employer_quota", "category": "3", "occupation": "7112", "term_months": 12,
                            "starts_on": "2026-03-01", "vacancy_posted_on": "2026-01-01", "workers": [worker]})]
        case ("POST", "/api/v1/permits/{reference}/steps"):
            return [c(json={"step": "approve"})]
        case ("POST", "/api/v1/permits/{reference}/contract-end"):
            return [c(json={"ended_on": "2026-03-01"})]
        case ("POST", "/api/v1/permits/{reference}/employer-change"):
            return [c(json={"iin": OTHER_IIN, "name": "Matrix Household"})]
        case ("POST", "/employer/permits/{reference}/correct"):
            return [c(data={"step": "check", "channel": "employer_quota", "category": "3"})]
        case ("POST", "/employer/permits/{reference}/contract-end"):
            return [c(data={"ended_on": "2026-03-01"})]
        case ("PUT", "/api/v1/employers/me"):
            return [c(json={"employer_name": "Matrix Qurylys", "region": "75", "sector": "construction"})]
        case ("PUT", "/api/v1/quotas/{year}/{region}/{category}"):
            return [c(json={"allowed": 5, "reason": "the matrix"})]
        case ("POST", "/api/v1/quotas/{year}/redistribute"):
            return [c(json={"category": "3", "from_region": "75", "to_region": "71", "places": 1,
                            "reason": "the matrix"})]
        case ("POST", "/api/v1/public/permits/verify"):
            return [c(json={"token": "KOSHWP1.e30.AAAA"})]
        case ("POST", "/verify"):
            return [c(data={"code": "KOSHWP1.e30.AAAA"})]
        case ("POST", "/employer/details"):
            return [c(data={"employer_name": "Matrix Qurylys", "region": "75", "sector": "construction"})]
        case ("POST", "/employer/apply"):
            return [c(data={"step": "check", "channel": "employer_quota", "category": "3"})]
        case ("POST", "/employer/permits/{reference}/steps" | "/permits/{reference}/step"):
            return [c(data={"step": "approve"})]
        case ("POST", "/permits/{reference}/employer-change"):
            return [c(data={"iin": "850315400005", "name": "Matrix Household"})]
        case ("POST", "/quotas/set"):
            return [c(data={"year": "2026", "region": "75", "category": "3", "allowed": "5"})]
        case ("POST", "/quotas/move"):
            return [c(data={"year": "2026", "category": "3", "from_region": "75", "to_region": "71", "places": "1",
                            "reason": "the matrix"})]
        case ("POST", "/quotas/import"):
            return [c(files={"file": ("quotas.csv", b"year,region,category,allowed\n2026,75,3,5\n", "text/csv")})]
        case ("POST" | "DELETE", "/api/v1/users/{username}/tokens" | "/api/v1/users/{username}/deactivate"
              | "/api/v1/users/{username}/activate" | "/api/v1/auth/tokens/{token_id}"):
            return [c()]
    pytest.fail(f"{method} {template}: no test request: add one to _bodies")


# -- checking one reply -----------------------------------------------------------------------

def send(client, w: World, username: str | None, call: Call):
    headers = (dict(w.headers[username]) if username else {}) | (call.headers or {})
    kwargs: dict[str, Any] = {"headers": headers, "params": call.params, "follow_redirects": False}
    if call.json is not None:
        kwargs["json"] = call.json
    if call.data is not None:
        kwargs["data"] = call.data
    if call.files is not None:
        kwargs["files"] = call.files
    return client.request(call.method, call.url, **kwargs)


def _forbidden_markers(w: World, username: str | None) -> set[str]:
    if username == "admin":
        return set()
    if username in READ_NO_PERSON:
        return w.markers["T"] | w.markers["A"]
    if username == "auditor":  # the audit trail and the grant list name persons by id, nothing more
        return (w.markers["T"] | w.markers["A"]) - w.id_markers["T"] - w.id_markers["A"]
    return set().union(*(w.markers[side] for side, who in OUT_OF_SCOPE.items() if username in who))


def leaks(w: World, username: str | None, call: Call, r) -> list[str]:
    """Markers of out-of-scope persons in the reply, but for the values the caller sent itself."""
    sent = [s.lower() for s in call.sent + list(_leaves(call.json)) + list(_leaves(call.data))
            + list(_leaves(call.params)) if len(s) >= 4]
    text = (r.text + "\n" + r.headers.get("location", "")).lower()
    found = []
    for m in sorted(_forbidden_markers(w, username)):
        low = m.lower()
        if any(low in s or s in low for s in sent):
            continue
        if low in text or json.dumps(m)[1:-1].lower() in text:
            found.append(m)
    return found


def check(w: World, username: str | None, call: Call, r) -> list[str]:
    kind, need = ROUTES[(call.method, call.template)]
    role = CALLERS[username]
    status = r.status_code
    who = username or "anonymous"
    where = f"{call.method} {call.url}{'?' + str(call.params) if call.params else ''} as {who}"
    body = json.dumps(call.json or call.data, ensure_ascii=False)[:160] if (call.json or call.data) else ""
    out = []
    if status >= 500:
        out.append(f"(a) {where}: {status} {r.text[:300]} body={body}")
        return out
    api = call.template.startswith("/api/")
    if kind == PUBLIC:
        pass
    elif role is None:
        if api and status != 401:
            out.append(f"(b) {where}: {status}, expected 401")
        if not api and not (status == 401 or (status in (302, 303, 307)
                                              and r.headers.get("location", "").startswith("/login"))):
            out.append(f"(b) {where}: {status} {r.headers.get('location', '')}, expected a redirect to /login")
    elif not permitted(role, need):
        if status not in (403, 404):
            out.append(f"(c) {where}: {status}, expected 403 (or 404): role {role} lacks {need}")
    elif call.hidden and status != 404:
        out.append(f"(c) {where}: {status}, expected 404 (an absent or out-of-scope object) body={body}")
    elif call.out_of_region and status != 403:
        out.append(f"(c) {where}: {status}, expected 403 (outside the caller's regions) body={body}")
    elif status == 401:
        out.append(f"(c) {where}: 401 with a valid token")
    if username == "border" and 200 <= status < 300 and kind not in BORDER_MAY_SEE | {WRITE}:
        out.append(f"(e) {where}: {status}: the border feed reads nothing")
    found = leaks(w, username, call, r)
    if found:
        out.append(f"(d) {where}: {status} reply holds {found} body={body}")
    return out


def _existence(w: World, username: str | None, call: Call, r, absent: dict[tuple, str]) -> list[str]:
    """An object out of the caller's scope answers exactly as an absent one (API replies, ids
    masked): a different answer tells that it exists, and to whom it belongs."""
    if not call.template.startswith("/api/") or r.status_code != 404 or not call.path_values:
        return []
    key = (call.method, call.template, username)
    text = r.text
    for value in call.path_values:
        text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", "<id>", text)
    if call.absent:
        absent.setdefault(key, text)
        return []
    if not call.hidden or key not in absent or absent[key] == text:
        return []
    return [f"(d) {call.method} {call.url} as {username or 'anonymous'}: an out-of-scope object answers "
            f"{text[:200]!r}, an absent one {absent[key][:200]!r}"]


def _table_matches_app(client) -> list[str]:
    present = app_routes(client)
    missing = sorted(present - set(ROUTES))
    stale = sorted(set(ROUTES) - present)
    return ([f"route {m} {p} is not in ROUTES: add a line with the permission it needs" for m, p in missing]
            + [f"ROUTES names {m} {p}, which the app no longer has" for m, p in stale])


def _ordered(method_filter) -> list[tuple[str, str]]:
    return [k for k in ROUTES if k[0] != "MOUNT" and method_filter(k)]


def _is_read(key: tuple[str, str]) -> bool:
    return ROUTES[key][0] != WRITE and key not in {("POST", "/api/v1/auth/tokens"), ("POST", "/login"),
                                                   ("POST", "/logout")}


# -- the tests ------------------------------------------------------------------------------

def test_every_route_is_in_the_table(client):
    assert _table_matches_app(client) == []


def test_access_matrix(client, world):
    w = world
    problems = _table_matches_app(client)
    absent_replies: dict[tuple, str] = {}
    # Reads first (they change nothing), then writes, each route by every caller (refused ones first).
    for phase in (_ordered(_is_read), _ordered(lambda k: not _is_read(k))):
        for method, template in phase:
            for username in CALLERS:
                # An absent object first: the out-of-scope ones must answer the same.
                for call in sorted(calls(w, method, template, username), key=lambda c: not c.absent):
                    r = send(client, w, username, call)
                    problems += check(w, username, call, r)
                    problems += _existence(w, username, call, r, absent_replies)
    r = client.get("/static/kosh.css")
    if r.status_code != 200:
        problems.append(f"(b) GET /static/kosh.css anonymously: {r.status_code}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_seeded_scope_is_what_the_matrix_relies_on(client, world):
    """The matrix passes vacuously if the seed is wrong: the in-scope officers and admins do read."""
    w, ids = world, world.ids
    h = w.headers
    assert "TK0617001" in client.get(f"/api/v1/persons/{ids['T']}", headers=h["south"]).text
    assert "AL0751001" in client.get(f"/api/v1/persons/{ids['A']}", headers=h["almaty"]).text
    for officer, side in (("almaty", "T"), ("north", "T"), ("south", "A"), ("north", "A")):
        assert client.get(f"/api/v1/persons/{ids[side]}", headers=h[officer]).status_code == 404
    found = client.post("/api/v1/persons/search", json={"q": "TURKISTANOV"}, headers=h["south"]).json()
    assert ids["T"] in {p["id"] for p in found["items"]}
    over = {i["person_id"] for i in client.get("/api/v1/stay/overstays", headers=h["south"]).json()["items"]}
    assert ids["T3"] in over
    assert client.get(f"/identity/review/{w.cand_t}", headers=h["south"]).status_code == 200
    assert client.get(f"/import/rejects/{w.batch}", headers=h["admin"]).status_code == 200
    # Every route that reads answers an admin with the first (existing) object; the host workspace
    # answers the host (with its own notification); an address that moved answers with a redirect.
    for method, template in _ordered(lambda k: k[0] == "GET"):
        if template.startswith(("/employer/", "/api/v1/employers")) or "{reference}" in template:
            continue  # an employer's own pages (an admin has no BIN), and no permit in this world:
            # tests/permits/test_api.py and test_employer_views.py read them as their users
        reader = "host" if template.startswith(("/host", "/api/v1/host")) else "admin"
        call = calls(w, method, template, reader)[0]
        r = send(client, w, reader, call)
        moved = (method, template) in MOVED and r.status_code == 303
        assert 200 <= r.status_code < 300 or moved, f"{method} {call.url} as {reader}: {r.status_code} {r.text[:200]}"


def test_writes_under_another_regions_document_reveal_no_one(client, world):
    """A write that names the document of a person out of the writer's scope is refused without
    naming them, or accepted with no id of theirs in the reply — nor in what the writer reads next."""
    w = world
    problems: list[str] = []

    def run(username: str, call: Call, expect: set[int], ids_in_reply: bool = False) -> None:
        r = send(client, w, username, call)
        problems.extend(p for p in check(w, username, call, r) if not p.startswith("(c)"))
        if r.status_code not in expect:
            problems.append(f"{call.method} {call.url} as {username}: {r.status_code}, expected {sorted(expect)}: "
                            f"{r.text[:200]}")
        if ids_in_reply and r.status_code == 201 and r.json()["person_ids"]:
            problems.append(f"{call.method} {call.url} as {username}: reply names {r.json()['person_ids']}")

    t_doc = {"document_number": "TK0617001", "issuing_state": "UZB"}
    a_doc = {"document_number": "AL0751001", "issuing_state": "UZB"}
    permit = _permit(w, "751710000") | t_doc
    run("almaty", Call("POST", "/api/v1/residence-permits", "/api/v1/residence-permits", json=permit), {404})
    person = _person(w, "191010000")
    person["documents"] = [{"number": "TK0617001", "issuing_state": "UZB"}]
    run("north", Call("POST", "/api/v1/persons", "/api/v1/persons", json=person), {409})
    event = _border_event(w) | t_doc
    run("almaty", Call("POST", "/api/v1/border-events", "/api/v1/border-events", json=event), {403})
    note = _notification(w, "south", "611010000") | a_doc
    run("south", Call("POST", "/api/v1/notifications", "/api/v1/notifications", json=note), {201}, ids_in_reply=True)
    form = {k: v for k, v in (_notification(w, "north", "191010000") | t_doc).items()
            if k not in ("source_event_id", "submitted_at", "patronymic")}
    run("north", Call("POST", "/notifications/new", "/notifications/new", data=form), {200, 303})
    note = _notification(w, "host", "611010000") | t_doc
    run("host", Call("POST", "/api/v1/notifications", "/api/v1/notifications", json=note), {201}, ids_in_reply=True)
    for template in ("/api/v1/notifications/mine", "/host/guests"):
        # The host's own list shows what the host wrote (it may), never whom the registry holds.
        run("host", Call("GET", template, template, sent=[str(v) for v in note.values()]), {200})
    event = _border_event(w) | a_doc
    run("border", Call("POST", "/api/v1/border-events", "/api/v1/border-events", json=event), {201},
        ids_in_reply=True)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
