"""The permit certificate and the public check: each worker's sheet carries a signed code (and its QR)
that verifies against the published key; the public page says who holds the permit and whether it
holds today (revoked, suspended and expired in red with their day), bad codes with signing's own
reason in the reader's language; the form token and the rate limit of the public pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from kosh.permits import ledger, service, signing, verify_views
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth
from kosh.platform.crypto import Keyring
from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.security import Principal, Role
from kosh.web.app import create_app

BIN = next(b for s in range(1, 50) if (b := bin_rules.make(2015, 6, "4", "0", s)))  # a valid BIN
IIN = "900101300017"
PASSWORD = "correct-horse-battery"
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party=BIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=4, regions=("75",))
TODAY = dt.date(2026, 3, 2)
CODE = re.compile(r"KOSHWP1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _worker(n: int, region: str = "75") -> dict:
    return {"surname": f"Karimov{chr(65 + n)}", "given_names": "Aziz", "birth_date": f"1990-01-0{1 + n % 9}",
            "citizenship": "UZB", "document_number": f"FA{1000000 + n}", "issuing_state": "UZB",
            "work_region": region, "sex": "M"}


def _step(ctx, who: Principal, ref: str, step: str, on: dt.date = TODAY, **kw) -> service.PermitView:
    with ctx.transaction() as s:
        return service.take_step(s, ctx, who, ref, StepIn(step=step, **kw), on)


def _permit(ctx, *, issue: bool = True, term_months: int = 12) -> str:
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region="75", category="3", allowed=10)
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region="71", category="3", allowed=10)
        if service.employer_of(s, ctx, EMPLOYER) is None:
            service.save_employer(s, ctx, EMPLOYER, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                               sector="construction"))
        body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
                "vacancy_posted_on": "2026-02-01", "term_months": term_months, "starts_on": "2026-03-10",
                "staff_total": 100, "staff_citizens": 95, "workers": [_worker(1), _worker(2), _worker(3, "71")]}
        ref = service.submit(s, ctx, EMPLOYER, ApplicationIn.model_validate(body), TODAY).reference
    if issue:
        _step(ctx, AKIMAT, ref, "approve")
        _step(ctx, EMPLOYER, ref, "pay_fee")
        _step(ctx, AKIMAT, ref, "issue", on=dt.date(2026, 3, 5))
    return ref


@pytest.fixture
def app(ctx, monkeypatch):
    monkeypatch.setattr(verify_views, "_today", lambda _ctx: dt.date(2026, 4, 1))
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="employer", password=PASSWORD, role="employer", host_party=BIN)
        auth.create_user(s, ctx, username="household", password=PASSWORD, role="employer", host_party=IIN)
        auth.create_user(s, ctx, username="almaty", password=PASSWORD, role="akimat", regions=["75"])
        auth.create_user(s, ctx, username="astana", password=PASSWORD, role="akimat", regions=["71"])
        auth.create_user(s, ctx, username="north", password=PASSWORD, role="akimat", regions=["59"])
    return create_app(ctx)  # no lifespan: no job runner


def _signed_in(app, username: str) -> TestClient:
    c = TestClient(app)
    r = c.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _check(c: TestClient, code: str, lang: str = "en"):
    form = c.get("/verify", params={"lang": lang})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return c.post(f"/verify?lang={lang}", data={"code": code, "csrf_token": token})


def _state(html: str) -> str:
    return re.search(r'id="state" data-state="([a-z_]+)"', html).group(1)


def test_the_certificate_has_a_signed_code_per_worker_with_tails_only(app, ctx):
    ref = _permit(ctx)
    page = _signed_in(app, "employer").get(f"/permits/{ref}/certificate")
    assert page.status_code == 200, page.text
    codes = CODE.findall(page.text)
    assert len(codes) == 3 and page.text.count("<svg") == 3
    assert 'aria-label="Work permit QR code"' in page.text
    payloads = [signing.verify_token(code, ctx.keyring) for code in codes]
    assert [p.holder for p in payloads] == ["KARIMOVB AZIZ", "KARIMOVC AZIZ", "KARIMOVD AZIZ"]
    first = payloads[0]
    assert (first.reference, first.document_tail, first.employer_id_tail, first.employer) == (
        ref, "0001", BIN[-4:], "Qurylys LLP")
    assert first.regions == ("75", "71") and (first.valid_from, first.valid_to) == (dt.date(2026, 3, 10),
                                                                                   dt.date(2027, 3, 9))
    assert BIN not in page.text and "FA1000001" not in page.text  # only the tails are printed
    # the akimat of a region the permit names reads it too; another region's does not, nor another employer
    assert _signed_in(app, "astana").get(f"/permits/{ref}/certificate").status_code == 200
    assert _signed_in(app, "north").get(f"/permits/{ref}/certificate").status_code == 404
    assert _signed_in(app, "household").get(f"/permits/{ref}/certificate").status_code == 404
    anonymous = TestClient(app).get(f"/permits/{ref}/certificate", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_no_certificate_before_the_permit_is_issued(app, ctx):
    ref = _permit(ctx, issue=False)
    r = _signed_in(app, "employer").get(f"/permits/{ref}/certificate")
    assert r.status_code == 409 and "only for a permit that has been issued" in r.text


def test_the_public_check_says_valid_then_revoked_with_the_day(app, ctx):
    ref = _permit(ctx)
    code = CODE.findall(_signed_in(app, "employer").get(f"/permits/{ref}/certificate").text)[0]
    public = TestClient(app)
    r = _check(public, code)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "Signature valid — issued by Kosh key " + signing.permit_key_id(ctx.keyring) in r.text
    assert _state(r.text) == "issued" and "Valid today" in r.text
    assert "KARIMOVB AZIZ" in r.text and "Qurylys LLP" in r.text and f"ending in {BIN[-4:]}" in r.text
    assert "Almaty" in r.text and "Astana" in r.text and "category 3 (specialists)" in r.text
    _step(ctx, AKIMAT, ref, "revoke", on=dt.date(2026, 3, 20), reason_code=ctx.pack.permits.reasons_for(
        "revoke")[0].code)
    r = _check(public, code)
    assert _state(r.text) == "revoked" and "Not valid" in r.text
    assert "permit revoked on Mar 20, 2026" in r.text
    ru = _check(public, code, "ru")
    assert _state(ru.text) == "revoked" and "Недействительно" in ru.text and "разрешение отозвано" in ru.text
    assert "Подпись действительна" in ru.text and "Регионы работы" in ru.text


def test_suspended_and_expired_permits_are_not_valid(app, ctx):
    ref = _permit(ctx)
    code = CODE.findall(_signed_in(app, "employer").get(f"/permits/{ref}/certificate").text)[0]
    _step(ctx, AKIMAT, ref, "suspend", on=dt.date(2026, 3, 25), reason_code=ctx.pack.permits.reasons_for(
        "suspend")[0].code)
    r = _check(TestClient(app), code)
    assert _state(r.text) == "suspended" and "Mar 25, 2026" in r.text
    with ctx.transaction() as s:  # past its end, before the daily job has expired it
        state = service.public_standing(s, ref, dt.date(2027, 3, 10))
        assert state is not None and (state.state, state.valid) == ("suspended", False)
    _step(ctx, AKIMAT, ref, "restore", on=dt.date(2026, 3, 26))
    with ctx.transaction() as s:
        state = service.public_standing(s, ref, dt.date(2027, 3, 10))
        assert state is not None and (state.state, state.valid, state.since) == ("expired", False,
                                                                                 dt.date(2027, 3, 10))
        assert service.public_standing(s, ref, dt.date(2027, 3, 9)).valid  # type: ignore[union-attr]
        assert service.public_standing(s, "WP-0000-0000") is None


def test_bad_codes_say_what_is_wrong_in_the_readers_language(app, ctx):
    ref = _permit(ctx)
    code = CODE.findall(_signed_in(app, "employer").get(f"/permits/{ref}/certificate").text)[0]
    head, body, sig = code.split(".")
    public = TestClient(app)
    r = _check(public, "hello")
    assert r.status_code == 422 and "This is not a Kosh work permit code" in r.text
    forged = f"{head}.{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BA'}"
    r = _check(public, forged)
    assert r.status_code == 422 and "was forged or altered" in r.text
    other = Keyring.generate()
    stranger = signing.encode(dataclasses.replace(signing.verify_token(code, ctx.keyring),
                                                  key_id=signing.permit_key_id(other)), other)
    r = _check(public, stranger)
    assert r.status_code == 422 and "a key this service does not know" in r.text
    uz = _check(public, "hello", "uz")
    assert uz.status_code == 422 and "This is not a Kosh work permit code" not in uz.text
    assert '<html lang="uz">' in uz.text


def test_the_form_is_prefilled_from_a_scanned_link_and_needs_its_token(app, ctx):
    public = TestClient(app)
    page = public.get("/verify", params={"code": "KOSHWP1.abc.def"})
    assert page.status_code == 200 and ">KOSHWP1.abc.def</textarea>" in page.text
    r = public.post("/verify", data={"code": "KOSHWP1.abc.def", "csrf_token": "forged"})
    assert r.status_code == 403 and "Send the form again" in r.text


def test_the_public_check_is_rate_limited_per_client(app, ctx):
    ctx.settings.status_checks_per_client = 2
    public = TestClient(app)
    assert _check(public, "x").status_code == 422
    assert _check(public, "x").status_code == 422
    r = _check(public, "x")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many tries" in r.text


def test_the_public_key_is_published_and_verifies_codes(app, ctx):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    ref = _permit(ctx)
    code = CODE.findall(_signed_in(app, "employer").get(f"/permits/{ref}/certificate").text)[0]
    r = TestClient(app).get("/verify/key.pem")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == signing.public_key_pem(ctx.keyring)
    key = load_pem_public_key(r.text.encode())
    assert signing.verify_token(code, key).reference == ref  # type: ignore[arg-type]
