"""The append-only, tamper-evident audit trail of every access to personal data.

Each record's MAC (HMAC-SHA256 under the audit key) covers its content and the MAC of
the record before it, and `audit_head` holds the last sequence number and MAC with a tag
(an HMAC over both, domain-separated from record MACs): a record altered, inserted or removed
anywhere (the tail included), or a head set by hand, breaks verification.

What the database alone cannot show is a rollback to a state it really had (an old head with
its old, valid tag, or the empty first state). Signed checkpoints, kept outside it, close that:
like a Certificate Transparency signed tree head (RFC 6962/9162), a checkpoint is the head's
sequence number, that record's MAC and the time, signed with Ed25519; they are appended to a
file under KOSH_HOME and published (stdout, syslog) so a witness can keep a copy, and verify
checks that every checkpoint's record is still in the chain with that MAC.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hmac
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from kosh.platform.clock import utcnow
from kosh.platform.crypto import Keyring, public_key_id, public_key_pem, signature_valid
from kosh.platform.errors import KoshError
from kosh.platform.models import AuditHead, AuditRecord
from kosh.platform.security import Principal

if TYPE_CHECKING:
    from kosh.platform.context import Context

GENESIS = "0" * 64
log = logging.getLogger(__name__)


class _Recorded(Protocol):
    """What a record's MAC covers: an AuditRecord row, or a _Pending one not yet written."""

    seq: int
    at: dt.datetime
    actor: str
    role: str
    purpose: str
    action: str
    subject_type: str
    subject_id: str
    detail: str
    prev_mac: str


def _payload(rec: _Recorded) -> bytes:
    return json.dumps(
        [rec.seq, rec.at.isoformat(), rec.actor, rec.role, rec.purpose, rec.action,
         rec.subject_type, rec.subject_id, rec.detail, rec.prev_mac],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def _aware(rec: AuditRecord) -> AuditRecord:
    # SQLite returns naive datetimes; the MAC was computed on the UTC-aware value.
    if rec.at.tzinfo is None:
        rec.at = rec.at.replace(tzinfo=utcnow().tzinfo)
    return rec


@dataclass(frozen=True)
class Access:
    action: str  # read | create | update | import | login | export ...
    subject_type: str
    subject_id: str
    detail: dict[str, Any] | None = None


class _Pending:
    """A record being appended: the attributes `_payload` reads, without an ORM instance."""

    __slots__ = ("seq", "at", "actor", "role", "purpose", "action", "subject_type", "subject_id", "detail",
                 "prev_mac", "mac")
    seq: int
    at: dt.datetime
    actor: str
    role: str
    purpose: str
    action: str
    subject_type: str
    subject_id: str
    detail: str  # JSON
    prev_mac: str
    mac: str

    def __init__(self, **values: Any) -> None:
        for k, v in values.items():
            setattr(self, k, v)


_HEAD = AuditHead.__table__
_LOG = AuditRecord.__table__
# Built once: the statements run on every read of personal data, and SQLAlchemy's compiled
# cache is keyed on them.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.tag).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(_LOG)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("head_seq"), mac=bindparam("head_mac"),
                                                         tag=bindparam("head_tag"))
# PostgreSQL: the record and the new head in one statement, one round trip less under the lock.
_INSERT_ONE_AND_MOVE_HEAD = _MOVE_HEAD.add_cte(
    insert(_LOG).values({c: bindparam(c, type_=_LOG.c[c].type) for c in _Pending.__slots__}).cte("appended"))


def head_authentic(keyring: Keyring, seq: int, mac: str, tag: str) -> bool:
    """The head's tag matches it; the first state (no record yet) may still be untagged."""
    if seq == 0 and mac == GENESIS and tag == "":
        return True
    # As bytes: compare_digest refuses non-ASCII str, and the row may hold anything.
    return hmac.compare_digest(tag.encode(), keyring.audit_head_tag(seq, mac).encode())


_warned_untagged = False


class Actor(Protocol):
    """Who a record names: a signed-in Principal, or an actor without an account (the public
    self-service, kosh.flows.selfservice: a person reading their own record)."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def purpose(self) -> str: ...


def append(session: Session, keyring: Keyring, principal: Actor | Principal, accesses: Iterable[Access]) -> int:
    """Append records in the caller's transaction; the head row lock serialises writers.

    Plain Core statements rather than the ORM unit of work: this runs on every read of
    personal data, so it is on the hot path of every request. The lock is taken as late as
    possible: everything that does not depend on the previous record is prepared first.
    """
    accesses = list(accesses)
    if not accesses:
        return 0
    actor, role, purpose = principal.username, str(principal.role), principal.purpose or "unspecified"
    details = [json.dumps(a.detail or {}, ensure_ascii=False, sort_keys=True, default=str) for a in accesses]
    conn = session.connection()
    seq, prev, tag = conn.execute(_LOCK_HEAD).one()
    authentic = head_authentic(keyring, seq, prev, tag)
    n = utcnow()  # after the lock, so that times follow the sequence
    now = n.replace(microsecond=(n.microsecond // 1000) * 1000)
    rows = []
    for access, detail in zip(accesses, details, strict=True):
        seq += 1
        rec = _Pending(seq=seq, at=now, actor=actor, role=role, purpose=purpose, action=access.action,
                       subject_type=access.subject_type, subject_id=str(access.subject_id), detail=detail,
                       prev_mac=prev)
        rec.mac = prev = keyring.audit_mac(_payload(rec))
        rows.append({c: getattr(rec, c) for c in _Pending.__slots__})
    # A head without a valid tag was set by hand (or predates tags): extending it must not make
    # it look authentic, so the new head stays untagged and verify keeps reporting it.
    head = {"head_seq": seq, "head_mac": prev, "head_tag": keyring.audit_head_tag(seq, prev) if authentic else ""}
    if not authentic:
        _warn_untagged(seq - len(rows))
    if len(rows) == 1 and conn.dialect.name == "postgresql":
        conn.execute(_INSERT_ONE_AND_MOVE_HEAD, rows[0] | head)
    else:
        conn.execute(_INSERT, rows)
        conn.execute(_MOVE_HEAD, head)
    return len(accesses)


def _warn_untagged(seq: int) -> None:
    global _warned_untagged
    if not _warned_untagged:  # once per process: this runs on every request
        _warned_untagged = True
        log.error("the audit head (record %d) has no valid tag: it was set by hand or predates head tags; "
                  "run `kosh audit verify`", seq)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0  # checkpoints checked against the chain
    problem: str = ""  # record | head | head-tag | checkpoint: which check failed


# -- checkpoints ---------------------------------------------------------------------------

CHECKPOINT_ORIGIN = "kosh audit checkpoint v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain reached record `seq`, whose MAC is `mac`, at `time`."""

    seq: int
    mac: str
    time: str  # RFC 3339, UTC
    key_id: str = ""
    signature: str = ""  # base64 Ed25519 over `message()`

    def message(self) -> bytes:
        # A text note as in C2SP checkpoints: origin line, then one value a line.
        return f"{CHECKPOINT_ORIGIN}\n{self.seq}\n{self.mac}\n{self.time}\n".encode()

    def to_json(self) -> str:
        return json.dumps({"origin": CHECKPOINT_ORIGIN, "seq": self.seq, "mac": self.mac, "time": self.time,
                           "key_id": self.key_id, "signature": self.signature}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        raw = json.loads(line)
        if not isinstance(raw, dict) or raw.get("origin") != CHECKPOINT_ORIGIN:
            raise ValueError(f"origin is not '{CHECKPOINT_ORIGIN}'")
        seq, mac, time, key_id, sig = (raw.get(k) for k in ("seq", "mac", "time", "key_id", "signature"))
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError("seq is not a record number")
        if not (isinstance(mac, str) and isinstance(time, str) and isinstance(key_id, str) and isinstance(sig, str)):
            raise ValueError("mac, time, key_id and signature must be strings")
        if not _HEX64.fullmatch(mac) or not _UTC_TIME.fullmatch(time):
            raise ValueError("mac is not 64 hex digits or time is not YYYY-MM-DDTHH:MM:SSZ")
        return cls(seq, mac, time, key_id, sig)

    def signed_by(self, keyring: Keyring) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        return signature_valid(keyring.checkpoint_public_key(), signature, self.message())


def checkpoint_public_key_path(checkpoints: Path) -> Path:
    return checkpoints.with_suffix(".pub")


def read_checkpoints(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line; a missing file has none."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", errors="replace") as fh:
        return [(n, line.strip()) for n, line in enumerate(fh, 1) if line.strip()]


def _check_checkpoints(keyring: Keyring, lines: Sequence[tuple[int, str]], where: str,
                       ) -> tuple[list[Checkpoint], VerifyResult | None]:
    if lines and keyring.checkpoint is None:
        return [], VerifyResult(False, 0, None, "the checkpoints cannot be checked: the key set has no "
                                                "'checkpoint' key", problem="checkpoint")
    out: list[Checkpoint] = []
    own_id = public_key_id(keyring.checkpoint_public_key()) if lines else ""
    for n, line in lines:
        try:
            cp = Checkpoint.from_json(line)
        except ValueError as exc:
            return out, VerifyResult(False, 0, None, f"line {n} of {where} is not a checkpoint ({exc})",
                                     problem="checkpoint")
        if not cp.signed_by(keyring):
            by = f"signed by another key ({cp.key_id})" if cp.key_id != own_id else "edited after it was signed"
            return out, VerifyResult(False, 0, None, f"the checkpoint on line {n} of {where} (of {cp.time}, record "
                                                     f"{cp.seq}) has no valid signature: {by}",
                                     problem="checkpoint")
        out.append(cp)
    return out, None


def verify(session: Session, keyring: Keyring, batch: int = 5000, *,
           checkpoints: Path | None = None) -> VerifyResult:
    """Check every record's link and MAC, the head and its tag, and (given a checkpoint file)
    every checkpoint's signature and that its record is still in the chain with that MAC."""
    vouched: list[Checkpoint] = []
    cp_problem = None
    if checkpoints is not None:
        vouched, cp_problem = _check_checkpoints(keyring, read_checkpoints(checkpoints), str(checkpoints))
    wanted = {cp.seq for cp in vouched}
    seen_macs: dict[int, str] = {0: GENESIS}
    prev_mac, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    after = 0
    while True:
        rows = session.execute(
            select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for rec in rows:
            _aware(rec)
            if rec.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"record {expected_seq} is missing (next present is {rec.seq})", problem="record")
            if rec.prev_mac != prev_mac:
                return VerifyResult(False, checked, rec.seq, f"record {rec.seq} does not link to record {rec.seq - 1}",
                                    problem="record")
            if keyring.audit_mac(_payload(rec)) != rec.mac:
                return VerifyResult(False, checked, rec.seq, f"record {rec.seq} was altered (its MAC does not match)",
                                    problem="record")
            if rec.seq in wanted:
                seen_macs[rec.seq] = rec.mac
            prev_mac, expected_seq, last_seq = rec.mac, expected_seq + 1, rec.seq
            checked += 1
        after = rows[-1].seq
        session.expunge_all()
    if cp_problem is not None:  # after the records, so that a broken record is named first
        return dataclasses.replace(cp_problem, checked=checked)
    for cp in vouched:
        if cp.seq > last_seq:
            return VerifyResult(False, checked, last_seq + 1,
                                f"the chain ends at {last_seq} but checkpoint of {cp.time} vouches for record "
                                f"{cp.seq}: records were removed", problem="checkpoint")
        if seen_macs[cp.seq] != cp.mac:
            return VerifyResult(False, checked, cp.seq,
                                f"record {cp.seq} is not the one checkpoint of {cp.time} vouches for: the chain was "
                                f"cut there or before and grew again", problem="checkpoint")
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, checked, None, "the audit head is missing", problem="head")
    if head.seq != last_seq or head.mac != prev_mac:
        return VerifyResult(False, checked, last_seq + 1,
                            f"the log ends at record {last_seq} but the head says {head.seq}: records were removed",
                            problem="head")
    if not head_authentic(keyring, head.seq, head.mac, head.tag):
        hint = (" (or it was last moved before head tags existed: `kosh audit seal` tags it after this check)"
                if head.tag == "" else "")
        return VerifyResult(False, checked, head.seq, f"the audit head (record {head.seq}) has no valid tag: it was "
                                                      f"set by hand{hint}", problem="head-tag")
    return VerifyResult(True, checked, checkpoints=len(vouched))


def seal(session: Session, keyring: Keyring, *, checkpoints: Path | None = None) -> VerifyResult:
    """Tag an untagged head (one moved before head tags existed), only when all else verifies."""
    result = verify(session, keyring, checkpoints=checkpoints)
    if result.ok or result.problem != "head-tag":
        return result
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    if head.tag != "":
        return result  # a wrong tag is not a missing one: never paper over it
    head.tag = keyring.audit_head_tag(head.seq, head.mac)
    return VerifyResult(True, result.checked, checkpoints=result.checkpoints)


def _last_checkpoint(fd: int) -> Checkpoint | None:
    size = os.lseek(fd, 0, os.SEEK_END)
    tail = os.pread(fd, min(size, 4096), max(0, size - 4096)).decode("utf-8", errors="replace")
    for line in reversed(tail.splitlines()):
        if line.strip():
            try:
                return Checkpoint.from_json(line)
            except ValueError:
                return None  # verify names a damaged line; it must not stop new checkpoints
    return None


def write_checkpoint(session: Session, keyring: Keyring, path: Path, *, only_if_moved: bool = False
                     ) -> Checkpoint | None:
    """Sign the current head and append it to `path` (0600); None when `only_if_moved` and it
    has not moved since the newest checkpoint there. Refuses a head that fails the cheap checks
    (its tag, its record, not behind the newest checkpoint): signing it would vouch for a forgery."""
    import fcntl

    seq, mac, tag = session.execute(select(_HEAD.c.seq, _HEAD.c.mac, _HEAD.c.tag).where(_HEAD.c.id == 1)).one()
    if not head_authentic(keyring, seq, mac, tag):
        raise KoshError(f"not signing: the audit head (record {seq}) has no valid tag; run `kosh audit verify`",
                        status=409)
    if seq and session.execute(select(_LOG.c.mac).where(_LOG.c.seq == seq)).scalar_one_or_none() != mac:
        raise KoshError(f"not signing: record {seq}, where the audit head points, is missing or differs; "
                        f"run `kosh audit verify`", status=409)
    public = keyring.checkpoint_public_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # workers of one server share the file
        last = _last_checkpoint(fd)
        if last is not None and last.seq > seq:
            raise KoshError(f"not signing: the audit head (record {seq}) is behind the checkpoint of {last.time} "
                            f"(record {last.seq}): records were removed; run `kosh audit verify`", status=409)
        if last is not None and last.seq == seq and last.mac != mac:
            raise KoshError(f"not signing: record {seq} differs from the checkpoint of {last.time}; "
                            f"run `kosh audit verify`", status=409)
        if only_if_moved and seq == (last.seq if last else 0):
            return None
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        unsigned = Checkpoint(seq, mac, now, public_key_id(public))
        cp = Checkpoint(seq, mac, now, unsigned.key_id,
                        base64.b64encode(keyring.sign_checkpoint(unsigned.message())).decode())
        size = os.lseek(fd, 0, os.SEEK_END)
        lead = "\n" if size and os.pread(fd, 1, size - 1) != b"\n" else ""  # after a torn last line
        os.write(fd, (lead + cp.to_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    _write_public_key(checkpoint_public_key_path(path), public_key_pem(public))
    return cp


def _write_public_key(path: Path, pem: str) -> None:
    # Public, so that a witness verifies the signatures without any secret.
    if path.exists() and path.read_text() == pem:
        return
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(pem)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def publish(cp: Checkpoint, *, syslog: bool = True) -> None:
    """Hand a checkpoint to the system log, from where a witness (or log shipper) keeps a copy."""
    logger = logging.getLogger("kosh.audit.checkpoint")
    if syslog and not logger.handlers and os.path.exists("/dev/log"):
        from logging.handlers import SysLogHandler

        handler = SysLogHandler(address="/dev/log", facility=SysLogHandler.LOG_AUTH)
        handler.setFormatter(logging.Formatter("kosh-audit: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    logger.info(cp.to_json())


def _checkpoint_if_moved(ctx: Context) -> None:
    with ctx.transaction() as s:
        cp = write_checkpoint(s, ctx.keyring, ctx.settings.resolved_audit_checkpoint_file, only_if_moved=True)
    if cp is not None:
        print(cp.to_json(), flush=True)
        publish(cp, syslog=ctx.settings.audit_checkpoint_syslog)


async def checkpoint_periodically(ctx: Context) -> None:
    """The web app's background task: a checkpoint every `audit_checkpoint_seconds` when the head moved."""
    import anyio.to_thread

    if ctx.keyring.checkpoint is None:
        log.warning("no audit checkpoints: the key set has no 'checkpoint' key")
        return
    while True:
        await anyio.sleep(ctx.settings.audit_checkpoint_seconds)
        try:
            await anyio.to_thread.run_sync(_checkpoint_if_moved, ctx)
        except Exception:  # a failed checkpoint is logged and retried, it must not stop the app
            log.exception("audit checkpoint failed")


def records(session: Session, keyring: Keyring, principal: Principal, *, after_seq: int = 0,
            limit: int = 100) -> list[AuditRecord]:
    """The trail for auditors, oldest first from a sequence number; reading it is itself audited."""
    from kosh.platform.security import Permission

    principal.require(Permission.AUDIT_READ)
    rows = list(session.execute(select(AuditRecord).where(AuditRecord.seq > after_seq)
                                .order_by(AuditRecord.seq).limit(limit)).scalars())
    append(session, keyring, principal, [Access("read", "audit_log", f"{after_seq + 1}+", {"count": len(rows)})])
    return rows
