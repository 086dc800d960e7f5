"""The audit chain: every access appends; altering, removing or inserting a record, setting the
head by hand or rolling the chain back behind a signed checkpoint is detected."""

from __future__ import annotations

import base64
import json
import stat
import time
from itertools import pairwise

import pytest
import sqlalchemy as sa

from kosh.platform import audit
from kosh.platform.crypto import Keyring, public_key_id
from kosh.platform.errors import KoshError
from kosh.platform.models import AuditHead, AuditRecord
from kosh.platform.security import Principal, Role


def _append(ctx, n: int) -> None:
    p = Principal("officer1", Role.OFFICER, user_id=1, regions=("75",), purpose="case 12")
    with ctx.transaction() as s:
        audit.append(s, ctx.keyring, p, [audit.Access("read", "person", f"p{i}") for i in range(n)])


def _verify(ctx) -> audit.VerifyResult:
    with ctx.transaction() as s:
        return audit.verify(s, ctx.keyring)


def test_records_chain_and_verify(ctx):
    _append(ctx, 3)
    _append(ctx, 2)
    result = _verify(ctx)
    assert result.ok and result.checked == 5
    with ctx.transaction() as s:
        recs = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
        assert recs[0].prev_mac == audit.GENESIS
        assert all(b.prev_mac == a.mac for a, b in pairwise(recs))
        assert recs[0].actor == "officer1" and recs[0].purpose == "case 12" and recs[0].role == "officer"


def test_altered_record_is_found(ctx):
    _append(ctx, 5)
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(AuditRecord).where(AuditRecord.seq == 3).values(subject_id="someone-else"))
    result = _verify(ctx)
    assert not result.ok
    assert result.first_broken_seq == 3
    assert "altered" in result.reason


def test_removed_record_in_the_middle_is_found(ctx):
    _append(ctx, 5)
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 2))
    result = _verify(ctx)
    assert not result.ok and result.first_broken_seq == 2 and "missing" in result.reason


def test_removed_tail_is_found(ctx):
    _append(ctx, 4)
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 4))
    result = _verify(ctx)
    assert not result.ok and "removed" in result.reason


def test_recomputed_chain_without_the_key_is_found(ctx):
    """An attacker who rewrites a record and recomputes MACs with another key still fails."""
    _append(ctx, 3)
    forger = Keyring.generate()
    with ctx.transaction() as s:
        recs = s.execute(sa.select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        prev = audit.GENESIS
        for r in recs:
            audit._aware(r)
            r.subject_id = "forged"
            r.prev_mac = prev
            r.mac = forger.audit_mac(audit._payload(r))
            prev = r.mac
        head = s.get(AuditHead, 1)
        head.mac = prev
    result = _verify(ctx)
    assert not result.ok and result.first_broken_seq == 1


# -- the head's tag and signed checkpoints ----------------------------------------------------


def _head(ctx) -> tuple[int, str, str]:
    with ctx.engine.connect() as conn:
        return tuple(conn.execute(sa.select(AuditHead.seq, AuditHead.mac, AuditHead.tag)).one())


def _set_head(ctx, seq: int, mac: str, tag: str | None = None) -> None:
    values = {"seq": seq, "mac": mac} | ({} if tag is None else {"tag": tag})
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(**values))


def _mac(ctx, seq: int) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(AuditRecord.mac).where(AuditRecord.seq == seq)).scalar_one()


def _delete_from(ctx, seq: int) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq >= seq))


def _checkpoint(ctx, **kw) -> audit.Checkpoint | None:
    with ctx.transaction() as s:
        return audit.write_checkpoint(s, ctx.keyring, ctx.settings.resolved_audit_checkpoint_file, **kw)


def _verify_with_checkpoints(ctx) -> audit.VerifyResult:
    with ctx.transaction() as s:
        return audit.verify(s, ctx.keyring, checkpoints=ctx.settings.resolved_audit_checkpoint_file)


def test_tail_removed_and_head_set_by_hand_is_found(ctx):
    _append(ctx, 5)
    _delete_from(ctx, 4)
    _set_head(ctx, 3, _mac(ctx, 3))  # the tag still vouches for record 5
    result = _verify(ctx)
    assert not result.ok and result.problem == "head-tag" and result.first_broken_seq == 3
    assert "no valid tag" in result.reason and "set by hand" in result.reason
    _set_head(ctx, 3, _mac(ctx, 3), tag="")  # a blanked tag is no better
    assert not _verify(ctx).ok


def test_all_records_removed_and_head_reset_is_found(ctx):
    _append(ctx, 3)
    _delete_from(ctx, 1)
    _set_head(ctx, 0, audit.GENESIS)
    result = _verify(ctx)
    assert not result.ok and result.problem == "head-tag" and "no valid tag" in result.reason


def test_appending_after_a_head_set_by_hand_does_not_make_it_valid(ctx):
    _append(ctx, 5)
    _delete_from(ctx, 4)
    _set_head(ctx, 3, _mac(ctx, 3))
    _append(ctx, 2)  # the app keeps recording, from the forged head
    result = _verify(ctx)
    assert not result.ok and result.problem == "head-tag" and result.first_broken_seq == 5


def test_head_tag_moves_with_the_head_in_the_same_statements(ctx):
    """The tag rides on the statements that already move the head: no round trip is added to
    the append every request makes (PostgreSQL: the record and the head in one statement)."""
    assert _head(ctx)[2] == ""  # the first state: no record, no tag yet
    _append(ctx, 1)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    sa.event.listen(ctx.engine, "before_cursor_execute", seen)
    try:
        _append(ctx, 1)
    finally:
        sa.event.remove(ctx.engine, "before_cursor_execute", seen)
    work = [s for s in statements if "audit" in s]
    assert len(work) == (2 if ctx.engine.dialect.name == "postgresql" else 3), work
    seq, mac, tag = _head(ctx)
    assert seq == 2 and tag == ctx.keyring.audit_head_tag(2, mac)
    assert tag != ctx.keyring.audit_mac(f"{seq}\n{mac}".encode())  # domain-separated from record MACs
    assert _verify(ctx).ok


@pytest.fixture
def history(ctx):
    """Records 1–5; the head as it stood at record 2 (a copy an attacker could have kept);
    a checkpoint signed at record 3."""
    _append(ctx, 2)
    old_head = _head(ctx)
    _append(ctx, 1)
    assert _checkpoint(ctx).seq == 3
    _append(ctx, 2)
    return old_head


def _checkpoint_lines(ctx) -> list[str]:
    return ctx.settings.resolved_audit_checkpoint_file.read_text().splitlines()


def _write_lines(ctx, lines: list[str]) -> None:
    ctx.settings.resolved_audit_checkpoint_file.write_text("".join(line + "\n" for line in lines))


def _alter_record(ctx, _old):
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(AuditRecord).where(AuditRecord.seq == 4).values(purpose="nothing to see"))


def _insert_record(ctx, _old):
    """Shift records 4–5 up and put a copy of record 3 (linking to 3) in at 4."""
    with ctx.engine.begin() as conn:
        for seq in (5, 4):
            conn.execute(sa.update(AuditRecord).where(AuditRecord.seq == seq).values(seq=seq + 1))
        row = conn.execute(sa.select(AuditRecord.__table__).where(AuditRecord.seq == 3)).mappings().one()
        conn.execute(sa.insert(AuditRecord).values(dict(row) | {"seq": 4, "prev_mac": row["mac"]}))
        conn.execute(sa.update(AuditHead).values(seq=6))


def _delete_middle(ctx, _old):
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 2))


def _cut_tail_fix_head(ctx, _old):
    _delete_from(ctx, 4)
    _set_head(ctx, 3, _mac(ctx, 3))


def _cut_tail_blank_tag(ctx, _old):
    _delete_from(ctx, 4)
    _set_head(ctx, 3, _mac(ctx, 3), tag="")


def _non_ascii_tag(ctx, _old):
    _set_head(ctx, *_head(ctx)[:2], tag="тег")
    _append(ctx, 1)  # neither appending nor verifying trips over it


def _empty_fix_head(ctx, _old):
    _delete_from(ctx, 1)
    _set_head(ctx, 0, audit.GENESIS)


def _empty_first_state(ctx, _old):
    """Exactly the state of a new installation: only a checkpoint can tell."""
    _delete_from(ctx, 1)
    _set_head(ctx, 0, audit.GENESIS, tag="")


def _restore_old_head(ctx, old):
    _delete_from(ctx, 3)
    _set_head(ctx, *old)


def _restore_old_head_and_regrow(ctx, old):
    _restore_old_head(ctx, old)
    _append(ctx, 4)  # the app goes on past the checkpoint's record number


def _edit_checkpoint(ctx, _old):
    line = json.loads(_checkpoint_lines(ctx)[0])
    _write_lines(ctx, [json.dumps(line | {"seq": 2, "mac": _mac(ctx, 2)})])


def _other_key_checkpoint(ctx, _old):
    other = Keyring.generate()
    forged = audit.Checkpoint(5, _mac(ctx, 5), "2026-12-02T04:00:00Z", public_key_id(other.checkpoint_public_key()))
    forged = audit.Checkpoint(forged.seq, forged.mac, forged.time, forged.key_id,
                              base64.b64encode(other.sign_checkpoint(forged.message())).decode())
    _write_lines(ctx, [*_checkpoint_lines(ctx), forged.to_json()])


def _garbage_checkpoint(ctx, _old):
    _write_lines(ctx, [*_checkpoint_lines(ctx), '{"seq": 9}'])


@pytest.mark.parametrize(("tamper", "problem", "words"), [
    (_alter_record, "record", "record 4 was altered"),
    (_insert_record, "record", "record 4 was altered"),
    (_delete_middle, "record", "record 2 is missing"),
    (_cut_tail_fix_head, "head-tag", "no valid tag"),
    (_cut_tail_blank_tag, "head-tag", "no valid tag"),
    (_non_ascii_tag, "head-tag", "no valid tag"),
    (_empty_fix_head, "checkpoint", "the chain ends at 0 but checkpoint of"),
    (_empty_first_state, "checkpoint", "the chain ends at 0 but checkpoint of"),
    (_restore_old_head, "checkpoint", "the chain ends at 2 but checkpoint of"),
    (_restore_old_head_and_regrow, "checkpoint", "record 3 is not the one checkpoint of"),
    (_edit_checkpoint, "checkpoint", "edited after it was signed"),
    (_other_key_checkpoint, "checkpoint", "signed by another key"),
    (_garbage_checkpoint, "checkpoint", "line 2 of"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_every_tamper_is_found(ctx, history, tamper, problem, words):
    assert _verify_with_checkpoints(ctx).ok
    tamper(ctx, history)
    result = _verify_with_checkpoints(ctx)
    assert not result.ok
    assert result.problem == problem and words in result.reason, result.reason


def test_restored_old_head_passes_without_checkpoints_and_fails_with_them(ctx, history):
    """What the database alone cannot show (a state it really had) is what checkpoints are for."""
    _restore_old_head(ctx, history)
    assert _verify(ctx).ok
    result = _verify_with_checkpoints(ctx)
    assert not result.ok and result.first_broken_seq == 3
    assert "vouches for record 3: records were removed" in result.reason


def test_untampered_chain_with_checkpoints_verifies(ctx, history):
    _append(ctx, 1)
    assert _checkpoint(ctx).seq == 6
    result = _verify_with_checkpoints(ctx)
    assert result.ok and result.checked == 6 and result.checkpoints == 2
    path = ctx.settings.resolved_audit_checkpoint_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_witness_verifies_with_the_public_key_alone(ctx, history):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    path = ctx.settings.resolved_audit_checkpoint_file
    public = load_pem_public_key(audit.checkpoint_public_key_path(path).read_bytes())
    raw = json.loads(path.read_text().splitlines()[0])
    assert raw["seq"] == 3 and raw["mac"] == _mac(ctx, 3)
    message = f"{raw['origin']}\n{raw['seq']}\n{raw['mac']}\n{raw['time']}\n".encode()
    public.verify(base64.b64decode(raw["signature"]), message)  # raises when invalid
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(raw["signature"]), message.replace(b"\n3\n", b"\n2\n"))


def test_a_witness_copy_is_checked(ctx, history, tmp_path):
    witness = tmp_path / "witness.jsonl"
    witness.write_text(ctx.settings.resolved_audit_checkpoint_file.read_text())
    ctx.settings.resolved_audit_checkpoint_file.unlink()  # the attacker removes the local file too
    _restore_old_head(ctx, history)
    assert _verify_with_checkpoints(ctx).ok
    with ctx.transaction() as s:
        result = audit.verify(s, ctx.keyring, checkpoints=witness)
    assert not result.ok and "vouches for record 3" in result.reason


def test_checkpoint_only_when_moved(ctx):
    assert _checkpoint(ctx, only_if_moved=True) is None  # nothing recorded yet
    _append(ctx, 2)
    assert _checkpoint(ctx, only_if_moved=True).seq == 2
    assert _checkpoint(ctx, only_if_moved=True) is None
    _append(ctx, 1)
    assert _checkpoint(ctx, only_if_moved=True).seq == 3
    assert len(_checkpoint_lines(ctx)) == 2


@pytest.mark.parametrize("tamper", [_cut_tail_fix_head, _restore_old_head, _empty_first_state],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_forged_head_is_never_signed(ctx, history, tamper):
    tamper(ctx, history)
    with pytest.raises(KoshError, match="not signing"):
        _checkpoint(ctx)
    assert len(_checkpoint_lines(ctx)) == 1


def test_seal_tags_a_head_from_before_tags_only(ctx, history):
    seq, mac, _tag = _head(ctx)
    _set_head(ctx, seq, mac, tag="")  # as migration 0009 leaves a head that is past record 0
    result = _verify_with_checkpoints(ctx)
    assert not result.ok and "kosh audit seal" in result.reason
    with ctx.transaction() as s:
        assert audit.seal(s, ctx.keyring, checkpoints=ctx.settings.resolved_audit_checkpoint_file).ok
    assert _verify_with_checkpoints(ctx).ok
    _set_head(ctx, seq, mac, tag="f" * 64)  # a wrong tag is not papered over
    with ctx.transaction() as s:
        assert not audit.seal(s, ctx.keyring).ok
    _restore_old_head(ctx, history)
    _set_head(ctx, history[0], history[1], tag="")  # nor a cut the checkpoints show
    with ctx.transaction() as s:
        result = audit.seal(s, ctx.keyring, checkpoints=ctx.settings.resolved_audit_checkpoint_file)
    assert not result.ok and result.problem == "checkpoint"
    assert _head(ctx)[2] == ""


def test_the_web_app_writes_checkpoints_while_it_runs(ctx):
    from fastapi.testclient import TestClient

    from kosh.web.app import create_app

    ctx.settings = ctx.settings.model_copy(update={"audit_checkpoint_seconds": 0.05,
                                                   "audit_checkpoint_syslog": False})
    path = ctx.settings.resolved_audit_checkpoint_file
    with TestClient(create_app(ctx)):
        _append(ctx, 2)
        deadline = time.monotonic() + 10
        while not (path.exists() and path.read_text().endswith("\n")) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [json.loads(line)["seq"] for line in _checkpoint_lines(ctx)] == [2]
    assert _verify_with_checkpoints(ctx).checkpoints == 1
