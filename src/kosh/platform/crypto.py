"""Field encryption (AES-256-GCM) and keyed hashes (HMAC-SHA256) for identifiers.

Three independent keys: `data` encrypts document numbers, `index` makes the keyed
hash used for exact lookup (a blind index: equal inputs give equal hashes, but the
hash reveals nothing without the key), `audit` keys the audit chain so that a
record cannot be altered and the chain recomputed without the key.
A fourth, `checkpoint`, is an Ed25519 private key that signs audit checkpoints kept outside
the database; a fifth, `permit`, is an Ed25519 private key that signs work permits' QR codes (a
separate key, so that one signature can never pass for the other). A key file written before
they existed gets them added on first load.
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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kosh.platform.errors import KoshError

KEY_NAMES = ("data", "index", "audit")
# Optional so that key sets made before them still load; both are Ed25519 private keys.
OPTIONAL_KEY_NAMES = ("checkpoint", "permit")
# Prefixes the head tag's input: a record's MAC input is a JSON array, so it never starts with this.
_HEAD_TAG_DOMAIN = b"kosh audit head v1\n"
_NONCE = 12
_VERSION = b"\x01"


@dataclass(frozen=True)
class Keyring:
    data: bytes
    index: bytes
    audit: bytes
    checkpoint: bytes | None = None
    permit: bytes | None = None

    @classmethod
    def generate(cls) -> Keyring:
        return cls(*(secrets.token_bytes(32) for _ in KEY_NAMES + OPTIONAL_KEY_NAMES))

    def to_json(self) -> str:
        return json.dumps({n: base64.b64encode(getattr(self, n)).decode() for n in KEY_NAMES + OPTIONAL_KEY_NAMES
                           if getattr(self, n) is not None}, indent=2)

    @classmethod
    def from_json(cls, text: str, origin: str) -> Keyring:
        try:
            raw = json.loads(text)
            required = [base64.b64decode(raw[n], validate=True) for n in KEY_NAMES]
            optional = [base64.b64decode(raw[n], validate=True) if raw.get(n) is not None else None
                        for n in OPTIONAL_KEY_NAMES]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KoshError(f"{origin}: not a valid key set ({exc.__class__.__name__}: {exc})", status=500) from None
        for name, key in zip(KEY_NAMES + OPTIONAL_KEY_NAMES, [*required, *optional], strict=True):
            if key is not None and len(key) != 32:
                raise KoshError(f"{origin}: key '{name}' must be 32 bytes, got {len(key)}", status=500)
        return cls(*required, *optional)

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

    def audit_head_tag(self, seq: int, mac: str) -> str:
        """Authenticates the chain's head row, so that a head set by hand is found."""
        return hmac.new(self.audit, _HEAD_TAG_DOMAIN + f"{seq}\n{mac}".encode(), hashlib.sha256).hexdigest()

    # -- checkpoint and permit signatures (Ed25519) -----------------------------------
    def _signing_key(self, name: str = "checkpoint") -> Ed25519PrivateKey:
        seed: bytes | None = getattr(self, name)
        if seed is None:
            raise KoshError(f"the key set has no '{name}' key: add one to KOSH_KEYS (32 random bytes, "
                            "base64, e.g. `openssl rand -base64 32`) or let Kosh add it to a writable key file",
                            status=500)
        return Ed25519PrivateKey.from_private_bytes(seed)

    def checkpoint_public_key(self) -> Ed25519PublicKey:
        return self._signing_key("checkpoint").public_key()

    def sign_checkpoint(self, message: bytes) -> bytes:
        return self._signing_key("checkpoint").sign(message)

    def permit_public_key(self) -> Ed25519PublicKey:
        return self._signing_key("permit").public_key()

    def sign_permit(self, message: bytes) -> bytes:
        return self._signing_key("permit").sign(message)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint that names the key in each checkpoint line."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


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
    keyring = Keyring.from_json(key_file.read_text(), str(key_file))
    if any(getattr(keyring, name) is None for name in OPTIONAL_KEY_NAMES):
        keyring = _add_missing_keys(key_file) or keyring
    return keyring


def _add_missing_keys(key_file: Path) -> Keyring | None:
    """Add the keys a key file from an older Kosh lacks; None when the file cannot be written.

    Under an exclusive lock and re-read, so that workers starting together add one key, not one
    each; written to a new 0600 file then renamed, so a crash never leaves a half-written key file.
    """
    import fcntl

    try:
        lock_fd = os.open(key_file.with_name(key_file.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return None  # read-only folder: run without checkpoints until a key is added
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        raw = json.loads(key_file.read_text())
        if all(raw.get(name) is not None for name in OPTIONAL_KEY_NAMES):
            return Keyring.from_json(key_file.read_text(), str(key_file))
        for name in OPTIONAL_KEY_NAMES:
            if raw.get(name) is None:
                raw[name] = base64.b64encode(secrets.token_bytes(32)).decode()
        text = json.dumps(raw, indent=2)
        keyring = Keyring.from_json(text, str(key_file))
        tmp = key_file.with_name(key_file.name + ".new")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, key_file)
        except OSError:
            tmp.unlink(missing_ok=True)
            return None
        return keyring
    finally:
        os.close(lock_fd)
