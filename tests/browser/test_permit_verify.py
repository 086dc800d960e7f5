"""A permit anyone can check, in headless Chromium: the employer prints the certificate, the QR code
on it (a screenshot of the element) reads back to the printed code, and a stranger who pastes that
code into the public /verify page (not signed in) sees the signature valid and the holder; once the
akimat revokes the permit, the same code says so in red. In Uzbek at 390 px too."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.permits import ledger, service
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth
from kosh.platform.clock import utcnow
from kosh.platform.i18n import translations
from kosh.platform.security import Principal, Role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MINISTRY = Principal("ministry", Role.MINISTRY)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, regions=("75",))


@pytest.fixture(scope="module")
def permit(live_ctx):
    """An issued permit of two workers, valid from today, and its employer's account."""
    today = utcnow().astimezone(live_ctx.pack.zone).date()
    employer = Principal("permits.employer", Role.EMPLOYER, host_party=f.HOST_BIN)
    workers = [{"surname": name, "given_names": "Aziz", "birth_date": "1990-01-02", "citizenship": "UZB",
                "document_number": number, "issuing_state": "UZB", "work_region": "75", "sex": "M"}
               for name, number in (("Karimov", "FA7100001"), ("Rakhimov", "FA7100002"))]
    with live_ctx.transaction() as s:
        auth.create_user(s, live_ctx, username="permits.employer", password=PASSWORD, role="employer",
                         host_party=f.HOST_BIN, display_name="Qurylys LLP")
        ledger.set_quota(s, live_ctx, MINISTRY, year=today.year, region="75", category="3", allowed=10)
        service.save_employer(s, live_ctx, employer, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                                 sector="construction"))
        body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
                "vacancy_posted_on": (today - dt.timedelta(days=30)).isoformat(), "term_months": 12,
                "starts_on": today.isoformat(), "staff_total": 100, "staff_citizens": 95, "workers": workers}
        ref = service.submit(s, live_ctx, employer, ApplicationIn.model_validate(body), today).reference
    for who, step in ((AKIMAT, "approve"), (employer, "pay_fee"), (AKIMAT, "issue")):
        with live_ctx.transaction() as s:
            service.take_step(s, live_ctx, who, ref, StepIn(step=step), today)
    return ref


def _verify(browser, live_server, code: str, lang: str = "en", viewport: dict | None = None):
    """A new browser (no session), the public page, the code pasted and checked."""
    context = browser.new_context(base_url=live_server, locale="en-GB", **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"/verify?lang={lang}")
    page.locator("#f-code").fill(code)
    page.locator("#check").click()
    page.locator("#state").wait_for()
    return context, page


def test_the_qr_code_of_a_certificate_checks_on_the_public_page(browser, live_server, live_ctx, permit, page):
    sign_in(page, "permits.employer")
    page.goto(f"/permits/{permit}/certificate?lang=en")
    assert permit in page.inner_text("#certificate-1 h1")
    assert page.locator("section.certificate").count() == 2
    printed = page.inner_text("#code-1").strip()
    png = page.locator("#qr-1 svg").screenshot()
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.text == printed and printed.startswith("KOSHWP1.")
    page.set_viewport_size(PHONE)  # on a phone the QR code shrinks to the screen and still reads
    page.reload()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    shrunk = page.locator("#qr-1 svg")
    assert shrunk.bounding_box()["width"] < 340
    [again] = zxingcpp.read_barcodes(Image.open(io.BytesIO(shrunk.screenshot())))
    assert again.text == printed

    context, public = _verify(browser, live_server, barcode.text)
    try:
        assert public.locator("#state").get_attribute("data-state") == "issued"
        assert "Signature valid" in public.inner_text("#signature")
        assert "Valid today" in public.inner_text("#state")
        assert public.inner_text("#holder") == "KARIMOV AZIZ"
        assert "Qurylys LLP" in public.inner_text("#employer")
        assert public.locator("a[href='/logout'], form[action='/logout']").count() == 0  # nobody signed in

        with live_ctx.transaction() as s:
            reason = live_ctx.pack.permits.reasons_for("revoke")[0].code
            service.take_step(s, live_ctx, AKIMAT, permit, StepIn(step="revoke", reason_code=reason),
                              utcnow().astimezone(live_ctx.pack.zone).date())
        public.goto("/verify")
        public.locator("#f-code").fill(barcode.text)
        public.locator("#check").click()
        assert public.locator("#state").get_attribute("data-state") == "revoked"
        assert "permit revoked on" in public.inner_text("#state")
        assert "Signature valid" in public.inner_text("#signature")  # the code is genuine; the permit is gone
    finally:
        context.close()

    # In Uzbek on a phone: the same answer in the reader's language, nothing wider than the screen.
    uz = translations("uz").gettext
    context, phone = _verify(browser, live_server, barcode.text, "uz", PHONE)
    try:
        assert phone.get_attribute("html", "lang") == "uz"
        assert phone.locator("#state").get_attribute("data-state") == "revoked"
        assert uz("Not valid") in phone.inner_text("#state") and uz("Not valid") != "Not valid"
        assert uz("permit revoked") in phone.inner_text("#state")
        assert phone.inner_text("#holder") == "KARIMOV AZIZ"
        assert phone.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
        # a code from elsewhere: signing's own reason, in Uzbek
        phone.goto("/verify")
        phone.locator("#f-code").fill("https://example.com/not-a-permit")
        phone.locator("#check").click()
        assert phone.inner_text("#e-code") == uz("This is not a Kosh work permit code") != (
            "This is not a Kosh work permit code")
        assert phone.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
