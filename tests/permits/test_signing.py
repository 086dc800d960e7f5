"""The signed permit code: it round-trips, verifies offline, refuses any change, a stranger's key and
garbage each with its own message, and its QR code reads back to exactly the code."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import stat

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kosh.permits import signing
from kosh.permits.signing import PermitPayload, decode, encode, permit_key_id, qr_png, qr_svg, verify_token
from kosh.platform.crypto import Keyring, load_keyring, public_key_id
from kosh.platform.errors import ValidationFailed
from kosh.platform.words import label

KEYS = Keyring.generate()
OTHER = Keyring.generate()
D = dt.date


def _payload(keys: Keyring = KEYS, **changes: object) -> PermitPayload:
    base: dict[str, object] = dict(
        reference="WP-7K3M-9QXD", holder="KARIMOV ALISHER BAKHTIYOROVICH", document_tail="4567", citizenship="UZB",
        employer="ТОО «Самрук Құрылыс Инвест»", employer_id_tail="0123", channel="employer_quota",
        category="category_3", regions=("75", "71"), valid_from=D(2026, 12, 1), valid_to=D(2027, 11, 30),
        issued_on=D(2026, 12, 2), key_id=permit_key_id(keys))
    base.update(changes)
    return PermitPayload(**base)  # type: ignore[arg-type]


def _message(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    [error] = exc.value.errors
    assert error.field == "token"
    return error.message.message  # type: ignore[attr-defined]


def _refused(token: str, keys: object = None) -> str:
    with pytest.raises(ValidationFailed) as exc:
        decode(token, KEYS.permit_public_key() if keys is None else keys)  # type: ignore[arg-type]
    return _message(exc)


def test_round_trip_is_ascii_and_short_enough_for_a_phone():
    payload = _payload()
    token = encode(payload, KEYS)
    assert token.isascii() and token.startswith("KOSHWP1.") and len(token) < 500
    assert decode(token, KEYS.permit_public_key()) == payload
    assert decode(token, {payload.key_id: KEYS.permit_public_key()}) == payload
    assert verify_token(token, KEYS) == payload == verify_token(f" {token}\n", KEYS.permit_public_key())
    assert "4567" in base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()


def test_the_signature_covers_the_domain_prefix_and_exact_json():
    token = encode(_payload(), KEYS)
    body = base64.urlsafe_b64decode(token.split(".")[1] + "==")
    signature = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    json.loads(body)  # canonical JSON
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    KEYS.permit_public_key().verify(signature, signing.SIGNATURE_DOMAIN + body)
    # A checkpoint signature by the same key set over the same bytes is not a permit signature.
    forged = f"{signing.PREFIX}.{token.split('.')[1]}.{signing._b64(KEYS.sign_checkpoint(body))}"
    assert _refused(forged) == signing.SIGNATURE_MISMATCH


def test_every_single_character_change_is_refused():
    token = encode(_payload(), KEYS)
    start = len(signing.PREFIX) + 1
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(start, len(token)):
        if token[i] == ".":
            continue
        at = alphabet.index(token[i])
        for replacement in {alphabet[(at + 1) % 64], alphabet[(at + 32) % 64]}:  # a low and a high bit
            changed = token[:i] + replacement + token[i + 1:]
            assert _refused(changed) in {signing.SIGNATURE_MISMATCH, signing.DAMAGED, signing.UNKNOWN_KEY}, i


def test_an_altered_payload_resigned_by_nobody_is_refused_as_not_matching():
    token = encode(_payload(), KEYS)
    _, body, signature = token.split(".")
    altered = base64.urlsafe_b64decode(body + "==").replace(b"2027-11-30", b"2029-11-30")
    assert _refused(f"{signing.PREFIX}.{signing._b64(altered)}.{signature}") == signing.SIGNATURE_MISMATCH


def test_another_key_sets_code_is_refused():
    # Its own key id: the verifier does not know that key.
    assert _refused(encode(_payload(OTHER), OTHER)) == signing.UNKNOWN_KEY
    assert _refused(encode(_payload(OTHER), OTHER), {permit_key_id(KEYS): KEYS.permit_public_key()}) == \
        signing.UNKNOWN_KEY
    # Claiming the service's key id: the signature does not match.
    assert _refused(encode(_payload(KEYS), OTHER)) == signing.SIGNATURE_MISMATCH
    # Several known keys (after a key change): each code verifies with its own.
    known = {permit_key_id(k): k.permit_public_key() for k in (KEYS, OTHER)}
    assert decode(encode(_payload(OTHER), OTHER), known) == _payload(OTHER)


@pytest.mark.parametrize(("token", "message"), [
    ("", signing.NOT_A_PERMIT_CODE),
    ("hello", signing.NOT_A_PERMIT_CODE),
    ("https://example.org/p?x=1", signing.NOT_A_PERMIT_CODE),
    ("KOSHWP2.abc.def", signing.NOT_A_PERMIT_CODE),
    ("KOSHWP1.abc", signing.NOT_A_PERMIT_CODE),
    ("KOSHWP1.%%%.def", signing.DAMAGED),
    ("KOSHWP1..", signing.DAMAGED),
    ("KOSHWP1.e30.AAAA", signing.DAMAGED),  # {} and a short signature
    ("KOSHWP1." + "A" * 4000 + ".AAAA", signing.DAMAGED),
])
def test_garbage_is_refused_with_its_own_message(token, message):
    assert _refused(token) == message


def test_a_signed_payload_of_another_shape_is_damaged():
    """Only what `encode` writes is a permit, even if validly signed (e.g. a future version's shape)."""
    body = json.dumps({"kid": permit_key_id(KEYS), "r": "WP-1"}, separators=(",", ":")).encode()
    token = f"{signing.PREFIX}.{signing._b64(body)}.{signing._b64(KEYS.sign_permit(signing.SIGNATURE_DOMAIN + body))}"
    assert _refused(token) == signing.DAMAGED


def test_errors_are_catalog_messages_with_the_field_label():
    with pytest.raises(ValidationFailed) as exc:
        decode("hello", KEYS.permit_public_key())
    assert exc.value.errors[0].message == "This is not a Kosh work permit code"
    assert label("token") == "Permit code"


def test_a_whole_document_number_cannot_get_into_a_code():
    with pytest.raises(ValueError):
        _payload(document_tail="FA1234567")
    with pytest.raises(ValueError):
        _payload(employer_id_tail="123456789012")


def test_the_qr_code_reads_back_to_exactly_the_code():
    token = encode(_payload(), KEYS)
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(token))))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.text == token
    assert verify_token(found.text, KEYS) == _payload()


def test_the_qr_svg_is_labelled_inline_markup():
    token = encode(_payload(), KEYS)
    svg = qr_svg(token, label='Код "разрешения" <QR>')
    assert svg.startswith('<svg role="img" aria-label="Код &quot;разрешения&quot; &lt;QR&gt;" ')
    assert "<title>Код \"разрешения\" &lt;QR&gt;</title>" in svg and "<?xml" not in svg
    assert "Work permit QR code" in qr_svg(token)


def test_the_public_key_pem_is_the_permit_key():
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = signing.public_key_pem(KEYS)
    key = load_pem_public_key(pem.encode())
    assert public_key_id(key) == permit_key_id(KEYS) != public_key_id(KEYS.checkpoint_public_key())  # type: ignore[arg-type]
    assert decode(encode(_payload(), KEYS), key) == _payload()  # type: ignore[arg-type]


_KAZAKH = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯаәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_names = st.text(alphabet=_KAZAKH + "ABCDEFGHIJKLMNOPQRSTUVWXYZ -'", min_size=1, max_size=40)
_tails = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=0, max_size=4)
_dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


@settings(max_examples=60, deadline=None)
@given(holder=_names, employer=_names, document_tail=_tails, employer_id_tail=_tails,
       regions=st.lists(st.sampled_from(["10", "11", "15", "19", "23", "27", "31", "35", "39", "43", "47", "55",
                                         "59", "61", "63", "71", "75", "79"]), min_size=1, max_size=5),
       category=st.sampled_from(["", "3", "household", "category_1"]), valid_from=_dates, valid_to=_dates,
       issued_on=_dates, reference=st.from_regex(r"WP-[0-9A-Z]{4}-[0-9A-Z]{4}", fullmatch=True))
def test_any_payload_round_trips(holder, employer, document_tail, employer_id_tail, regions, category, valid_from,
                                 valid_to, issued_on, reference):
    payload = _payload(holder=holder, employer=employer, document_tail=document_tail,
                       employer_id_tail=employer_id_tail, regions=tuple(regions), category=category,
                       valid_from=valid_from, valid_to=valid_to, issued_on=issued_on, reference=reference)
    token = encode(payload, KEYS)
    assert token.isascii()
    assert decode(token, KEYS.permit_public_key()) == payload


# -- the key set's permit key ------------------------------------------------------------------------

def test_a_key_file_without_a_permit_key_gains_one_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    path = tmp_path / "keys.json"
    old = json.loads(Keyring.generate().to_json())
    del old["permit"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(old))
    keys = load_keyring(path)
    assert keys.permit is not None and len(keys.permit) == 32
    saved = json.loads(path.read_text())
    assert {k: saved[k] for k in old} == old and "permit" in saved  # the checkpoint key is kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(path) == keys
    assert verify_token(encode(_payload(keys), keys), keys) == _payload(keys)


def test_a_key_set_without_a_permit_key_loads_but_cannot_sign(monkeypatch, tmp_path):
    from kosh.platform.errors import KoshError

    old = json.loads(KEYS.to_json())
    del old["permit"]
    monkeypatch.setenv("KOSH_KEYS", json.dumps(old))
    keys = load_keyring(tmp_path / "absent.json")
    assert keys.permit is None and keys.checkpoint == KEYS.checkpoint
    with pytest.raises(KoshError, match="no 'permit' key"):
        keys.sign_permit(b"x")
    monkeypatch.setenv("KOSH_KEYS", json.dumps(old | {"permit": "eA=="}))
    with pytest.raises(KoshError, match="'permit' must be 32 bytes"):
        load_keyring(tmp_path / "absent.json")


def test_permit_and_checkpoint_keys_differ():
    assert KEYS.permit != KEYS.checkpoint
    assert public_key_id(KEYS.permit_public_key()) != public_key_id(KEYS.checkpoint_public_key())
