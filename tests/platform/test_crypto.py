from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from kosh.platform.crypto import Keyring, load_keyring, signature_valid, write_key_file
from kosh.platform.errors import KoshError

KEYS = Keyring.generate()


@given(st.text(min_size=0, max_size=40))
def test_encrypt_round_trip_and_context_binding(value):
    blob = KEYS.encrypt(value, "travel_document:UZB")
    assert len(value.encode()) < 8 or value.encode() not in blob  # short strings may occur by chance
    assert KEYS.decrypt(blob, "travel_document:UZB") == value
    with pytest.raises(InvalidTag):
        KEYS.decrypt(blob, "travel_document:KGZ")


def test_blind_index_is_deterministic_and_keyed():
    other = Keyring.generate()
    assert KEYS.blind_index("FA1234567", "doc") == KEYS.blind_index("FA1234567", "doc")
    assert KEYS.blind_index("FA1234567", "doc") != KEYS.blind_index("FA1234568", "doc")
    assert KEYS.blind_index("FA1234567", "doc") != other.blind_index("FA1234567", "doc")


def test_key_file_is_owner_only_and_reloads(tmp_path, monkeypatch):
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    path = tmp_path / "keys.json"
    assert write_key_file(path) is True
    assert write_key_file(path) is False  # never overwritten silently
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    a, b = load_keyring(path), load_keyring(path)
    assert a == b
    os.chmod(path, 0o644)
    with pytest.raises(KoshError, match="readable by others"):
        load_keyring(path)


def test_missing_keys_are_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    with pytest.raises(KoshError, match="kosh init"):
        load_keyring(tmp_path / "none.json")


def test_keys_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KOSH_KEYS", KEYS.to_json())
    assert load_keyring(tmp_path / "absent.json") == KEYS
    monkeypatch.setenv("KOSH_KEYS", '{"data": "eA=="}')
    with pytest.raises(KoshError, match="KOSH_KEYS"):
        load_keyring(tmp_path / "absent.json")



def _old_key_file(path) -> dict:
    """A key file as Kosh wrote it before checkpoint signing: three keys."""
    old = json.loads(Keyring.generate().to_json())
    del old["checkpoint"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(old))
    return old


def test_old_key_file_loads_and_gains_a_checkpoint_key(tmp_path, monkeypatch):
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    path = tmp_path / "keys.json"
    old = _old_key_file(path)
    keys = load_keyring(path)
    assert keys.checkpoint is not None and len(keys.checkpoint) == 32
    assert base64.b64encode(keys.audit).decode() == old["audit"]  # the other keys are kept
    saved = json.loads(path.read_text())
    assert {k: saved[k] for k in old} == old and "checkpoint" in saved
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(path) == keys  # added once, then stable
    message = b"kosh audit checkpoint v1\n1\n"
    assert signature_valid(keys.checkpoint_public_key(), keys.sign_checkpoint(message), message)


def test_unwritable_old_key_file_still_loads_without_signing(tmp_path, monkeypatch):
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    path = tmp_path / "keys.json"
    old = _old_key_file(path)
    (tmp_path / "keys.json.lock").mkdir()  # the key can't be added (as in a read-only folder, even for root)
    keys = load_keyring(path)
    assert keys.checkpoint is None and json.loads(path.read_text()) == old
    with pytest.raises(KoshError, match="no 'checkpoint' key"):
        keys.sign_checkpoint(b"x")


def test_environment_key_set_without_checkpoint_key_still_loads(monkeypatch, tmp_path):
    old = json.loads(KEYS.to_json())
    del old["checkpoint"]
    monkeypatch.setenv("KOSH_KEYS", json.dumps(old))
    keys = load_keyring(tmp_path / "absent.json")
    assert keys.audit == KEYS.audit and keys.checkpoint is None
    monkeypatch.setenv("KOSH_KEYS", json.dumps(old | {"checkpoint": "eA=="}))
    with pytest.raises(KoshError, match="'checkpoint' must be 32 bytes"):
        load_keyring(tmp_path / "absent.json")


@given(st.integers(min_value=0, max_value=2**40), st.text("0123456789abcdef", min_size=64, max_size=64),
       st.integers(min_value=0, max_value=2**40), st.text("0123456789abcdef", min_size=64, max_size=64))
def test_head_tag_binds_sequence_and_mac(seq_a, mac_a, seq_b, mac_b):
    same = (seq_a, mac_a) == (seq_b, mac_b)
    assert (KEYS.audit_head_tag(seq_a, mac_a) == KEYS.audit_head_tag(seq_b, mac_b)) == same
    assert KEYS.audit_head_tag(seq_a, mac_a) != Keyring.generate().audit_head_tag(seq_a, mac_a)


@given(st.binary(max_size=200))
def test_checkpoint_signatures_are_bound_to_message_and_key(message):
    signature = KEYS.sign_checkpoint(message)
    assert signature_valid(KEYS.checkpoint_public_key(), signature, message)
    assert not signature_valid(KEYS.checkpoint_public_key(), signature, message + b"\n")
    assert not signature_valid(Keyring.generate().checkpoint_public_key(), signature, message)
