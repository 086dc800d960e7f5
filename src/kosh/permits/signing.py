"""The signed work permit code: what a permit's QR code holds, checked offline with the public key.

A code is `KOSHWP1.<payload>.<signature>`: the payload is canonical JSON (sorted short keys, no
spaces, UTF-8, ISO dates) in base64url without padding, and the signature is Ed25519 by the key
set's `permit` key over a domain prefix and exactly those JSON bytes. The prefix keeps a permit
signature from ever passing for another kind of Kosh signature, and the separate key keeps audit
checkpoint signatures from passing for permits. Short keys keep the code small enough for a QR
code that a phone camera reads at arm's length (about 400 characters for a usual permit).

The code carries only what an inspector needs to match the permit to the person in front of them:
the holder's name in Latin letters and the last four characters of the document number and of
the employer's BIN/IIN, never the whole numbers (a QR code can be photographed by anyone).

Pure: no database and no clock; the web page and `kosh permits verify` build on `decode`.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kosh.platform import crypto
from kosh.platform.crypto import Keyring, public_key_id, signature_valid
from kosh.platform.errors import FieldError, ValidationFailed
from kosh.platform.words import N_, Msg, field_labels

PREFIX = "KOSHWP1"
# Signed before the JSON: no other message Kosh signs starts with it.
SIGNATURE_DOMAIN = b"kosh-work-permit-v1\n"
TAIL_LENGTH = 4
# Far above any real code (a QR code holds at most 2,953 bytes); refuses large input before decoding it.
MAX_TOKEN_LENGTH = 3000
_SIGNATURE_LENGTH = 64

field_labels({"token": N_("Permit code")})

NOT_A_PERMIT_CODE = N_("This is not a Kosh work permit code")
DAMAGED = N_("The permit code is damaged and cannot be read")
SIGNATURE_MISMATCH = N_("The permit code's signature does not match: the code was forged or altered")
UNKNOWN_KEY = N_("The permit code was signed by a key this service does not know")
TAIL_TOO_LONG = N_("A permit code holds only the last 4 characters of a document or BIN/IIN number")
QR_LABEL = N_("Work permit QR code")

# Field name -> key in the JSON; short so that the QR code stays small. Never reuse a key.
_KEYS = {"reference": "r", "holder": "h", "document_tail": "d", "citizenship": "c", "employer": "e",
         "employer_id_tail": "b", "channel": "ch", "category": "k", "regions": "g", "valid_from": "f",
         "valid_to": "t", "issued_on": "i", "key_id": "kid"}
_DATES = ("valid_from", "valid_to", "issued_on")


@dataclass(frozen=True)
class PermitPayload:
    reference: str  # e.g. "WP-7K3M-9QXD"
    holder: str  # name in Latin letters, as in the travel document
    document_tail: str  # last 4 characters of the travel document number
    citizenship: str  # ISO 3166-1 alpha-3
    employer: str
    employer_id_tail: str  # last 4 digits of the employer's BIN or IIN
    channel: str  # the pack's channel code, e.g. "employer_quota"
    category: str  # e.g. "3", "household"; "" when the channel has none
    regions: tuple[str, ...]  # 2-digit KATO region codes
    valid_from: date
    valid_to: date
    issued_on: date
    key_id: str  # kosh.platform.crypto.public_key_id of the signing key

    def __post_init__(self) -> None:
        # The code is public once printed: a whole document number must never get into it by mistake.
        if len(self.document_tail) > TAIL_LENGTH or len(self.employer_id_tail) > TAIL_LENGTH:
            raise ValueError(Msg(TAIL_TOO_LONG))


def permit_key_id(keyring: Keyring) -> str:
    """The `key_id` to put in a payload signed with this key set."""
    return public_key_id(keyring.permit_public_key())


def public_key_pem(keyring: Keyring) -> str:
    """The permit public key, PEM, for publishing to those who verify codes offline."""
    return crypto.public_key_pem(keyring.permit_public_key())


def _canonical(payload: PermitPayload) -> bytes:
    data: dict[str, object] = {}
    for f in fields(payload):
        value = getattr(payload, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[_KEYS[f.name]] = value
    # ensure_ascii=False: UTF-8 Cyrillic takes 2 bytes where a \\u escape takes 6.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Only the canonical spelling: unused low bits of the last character would otherwise let two
    # different codes carry one payload.
    if _b64(raw) != text:
        raise binascii.Error
    return raw


def encode(payload: PermitPayload, keyring: Keyring) -> str:
    """The ASCII code for the permit's QR code, signed with the key set's `permit` key."""
    body = _canonical(payload)
    return f"{PREFIX}.{_b64(body)}.{_b64(keyring.sign_permit(SIGNATURE_DOMAIN + body))}"


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("token", Msg(message))])


def _payload(data: object) -> PermitPayload:
    """The payload from the JSON object; ValueError/TypeError/KeyError when it has another shape."""
    if not isinstance(data, dict) or set(data) != set(_KEYS.values()):
        raise KeyError
    values: dict[str, object] = {}
    for name, key in _KEYS.items():
        value = data[key]
        if name == "regions":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            values[name] = tuple(value)
        elif not isinstance(value, str):
            raise TypeError
        else:
            values[name] = date.fromisoformat(value) if name in _DATES else value
    return PermitPayload(**values)  # type: ignore[arg-type]


def decode(token: str, public_keys: Mapping[str, Ed25519PublicKey] | Ed25519PublicKey) -> PermitPayload:
    """The permit a code holds, after checking its signature offline.

    `public_keys` is one permit public key or the known ones by key id (so that codes signed before
    a key change still verify). Raises ValidationFailed on field `token` with what is wrong.
    """
    token = token.strip()  # scanners and copy-paste add line ends
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise _fail(NOT_A_PERMIT_CODE)
    if len(token) > MAX_TOKEN_LENGTH:
        raise _fail(DAMAGED)
    try:
        body, signature = _unb64(parts[1]), _unb64(parts[2])
        key_id = json.loads(body.decode("utf-8"))["kid"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise _fail(DAMAGED) from None
    if not isinstance(key_id, str) or len(signature) != _SIGNATURE_LENGTH:
        raise _fail(DAMAGED)
    if isinstance(public_keys, Ed25519PublicKey):
        key = public_keys if public_key_id(public_keys) == key_id else None
    else:
        key = public_keys.get(key_id)
    if key is None:
        raise _fail(UNKNOWN_KEY)
    if not signature_valid(key, signature, SIGNATURE_DOMAIN + body):
        raise _fail(SIGNATURE_MISMATCH)
    try:
        payload = _payload(json.loads(body.decode("utf-8")))
    except (ValueError, TypeError, KeyError):
        raise _fail(DAMAGED) from None
    if _canonical(payload) != body:  # signed, but not as `encode` writes: not a code Kosh made
        raise _fail(DAMAGED)
    return payload


def verify_token(token: str, keys: Keyring | Ed25519PublicKey | Mapping[str, Ed25519PublicKey]) -> PermitPayload:
    """`decode` for callers holding the key set (the CLI) or a published public key."""
    return decode(token, keys.permit_public_key() if isinstance(keys, Keyring) else keys)


def _qr(token: str) -> segno.QRCode:
    # Level M: survives about 15% damage (a crease, a smudge) and keeps the code a size a phone reads.
    return segno.make(token, error="m", micro=False)


def qr_svg(token: str, label: str = QR_LABEL, *, scale: int = 4) -> str:
    """Inline SVG markup of the code's QR code. `label` is read by screen readers: pages pass it
    translated (`_("Work permit QR code")`). White background, so that it scans on a dark page."""
    svg: str = _qr(token).svg_inline(scale=scale, border=4, title=label, light="#fff", dark="#000")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label, quote=True)}" ', 1)


def qr_png(token: str, *, scale: int = 6) -> bytes:
    """The code's QR code as PNG (for printing and download)."""
    out = io.BytesIO()
    _qr(token).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
