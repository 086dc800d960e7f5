"""Field encryption (AES-256-GCM) and keyed hashes (HMAC-SHA256) for identifiers.

Three independent keys: `data` encrypts document numbers, `index` makes the keyed
hash used for exact lookup (a blind index: equal inputs give equal hashes, but the
hash reveals nothing without the key), `audit` keys the audit chain so that a
record cannot be altered and the chain recomputed without the key.
Keys come from KOSH_KEYS (JSON) or the key file that `kosh init` writes (0600).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kosh.core.errors import KoshError

KEY_NAMES = ("data", "index", "audit")
_NONCE = 12
_VERSION = b"\x01"


@dataclass(frozen=True)
class Keyring:
    data: bytes
    index: bytes
    audit: bytes

    @classmethod
    def generate(cls) -> "Keyring":
        return cls(*(secrets.token_bytes(32) for _ in KEY_NAMES))

    def to_json(self) -> str:
        return json.dumps({n: base64.b64encode(getattr(self, n)).decode() for n in KEY_NAMES}, indent=2)

    @classmethod
    def from_json(cls, text: str, origin: str) -> "Keyring":
        try:
            raw = json.loads(text)
            keys = [base64.b64decode(raw[n], validate=True) for n in KEY_NAMES]
        except (ValueError, KeyError, TypeError) as exc:
            raise KoshError(f"{origin}: not a valid key set ({exc.__class__.__name__}: {exc})", status=500) from None
        for name, key in zip(KEY_NAMES, keys):
            if len(key) != 32:
                raise KoshError(f"{origin}: key '{name}' must be 32 bytes, got {len(key)}", status=500)
        return cls(*keys)

    # -- encryption -------------------------------------------------------------------
    def encrypt(self, plaintext: str, context: str) -> bytes:
        """AES-GCM with a random nonce; `context` is bound as associated data."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + AESGCM(self.data).encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if not blob or blob[:1] != _VERSION:
            raise KoshError("encrypted value has an unknown format", status=500)
        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        return AESGCM(self.data).decrypt(nonce, body, context.encode()).decode()

    def blind_index(self, value: str, context: str) -> str:
        return hmac.new(self.index, f"{context}\x1f{value}".encode(), hashlib.sha256).hexdigest()

    def audit_mac(self, payload: bytes) -> str:
        return hmac.new(self.audit, payload, hashlib.sha256).hexdigest()


def write_key_file(path: Path, *, overwrite: bool = False) -> bool:
    """Create a key file readable by its owner only; returns False when one exists."""
    if path.exists() and not overwrite:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(Keyring.generate().to_json())
    os.chmod(path, 0o600)
    return True


def load_keyring(key_file: Path, *, create: bool = False) -> Keyring:
    env = os.environ.get("KOSH_KEYS")
    if env:
        return Keyring.from_json(env, "KOSH_KEYS")
    if not key_file.exists():
        if not create:
            raise KoshError(f"no keys: set KOSH_KEYS or run `kosh init` to create {key_file}", status=500)
        write_key_file(key_file)
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        raise KoshError(f"{key_file} is readable by others (mode {mode:o}); run chmod 600 on it", status=500)
    return Keyring.from_json(key_file.read_text(), str(key_file))
