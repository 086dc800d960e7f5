from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, strategies as st

from kosh.core.crypto import Keyring, load_keyring, write_key_file
from kosh.core.errors import KoshError

KEYS = Keyring.generate()


@given(st.text(min_size=0, max_size=40))
def test_encrypt_round_trip_and_context_binding(value):
    blob = KEYS.encrypt(value, "travel_document:UZB")
    assert len(value.encode()) < 8 or value.encode() not in blob  # short strings may occur by chance
    assert KEYS.decrypt(blob, "travel_document:UZB") == value
    with pytest.raises(Exception):
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

