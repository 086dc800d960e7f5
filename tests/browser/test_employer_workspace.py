"""The employer's journey in headless Chromium: start page → register the details → apply with a
vacancy posted too recently → check your answers shows the failing "Vacancy posting" check with the
rule's words and no submit button → back to the form, the date fixed → submit → confirmation with
the reference → the permit in the list. In English on a desktop; in Russian (switched on the
failing page) at 390 px, with no horizontal scroll. And an application the akimat returned,
corrected on the prefilled form and filed again under its reference, in Russian at 390 px."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.permits import ledger, service
from kosh.permits.models import WorkPermit
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth
from kosh.platform.clock import utcnow
from kosh.platform.i18n import translations
from kosh.platform.security import Principal, Role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MINISTRY = Principal("ministry", Role.MINISTRY)
EMPLOYER = Principal("employer", Role.EMPLOYER, host_party=f.HOST_BIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, regions=("75",))


@pytest.fixture(scope="module")
def employer(live_ctx):
    """An employer's account (the module's own: conftest makes an officer and a host) and a
    quota for Almaty's category 3 this year and the next (the start date may fall in either)."""
    today = utcnow().astimezone(live_ctx.pack.zone).date()
    with live_ctx.transaction() as s:
        auth.create_user(s, live_ctx, username="employer", password=PASSWORD, role="employer",
                         host_party=f.HOST_BIN, display_name="Qurylys LLP")
        for year in (today.year, today.year + 1):
            ledger.set_quota(s, live_ctx, MINISTRY, year=year, region="75", category="3", allowed=10)
    return today


def no_sideways_scroll(pg) -> bool:
    return pg.evaluate("() => document.scrollingElement.scrollWidth <= 390")


@pytest.mark.parametrize("lang, viewport, document", [
    ("en", None, "FA7000001"),
    ("ru", PHONE, "FA7000002"),
])
def test_employer_journey(browser, live_server, live_ctx, employer, lang, viewport, document):
    today = employer
    t = translations(lang).gettext
    en = translations("en").gettext
    context = browser.new_context(base_url=live_server, locale="en-GB", **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "employer")
        page.goto("/employer?lang=en")
        assert "Work permits for foreign workers" in page.inner_text("h1")
        assert "at least 15 calendar days before you apply" in page.inner_text("#rule-vacancy")
        if viewport:
            assert no_sideways_scroll(page)

        # The details: registered the first time, confirmed the second.
        page.goto("/employer/details")
        page.locator("#f-employer_name").fill("Qurylys LLP")
        page.locator("#f-region").select_option(label="Almaty")
        page.locator("#f-sector").select_option("construction")
        page.locator("#save-details").click()
        page.wait_for_url("**/employer?done=details")
        assert "Qurylys LLP" in page.inner_text("#employer-details")

        page.get_by_role("button", name="Apply for a permit").click()  # a link styled as a button
        page.wait_for_url("**/employer/apply")
        page.locator("#f-channel-employer_quota").check()
        page.locator("#f-category").select_option("3")
        page.locator("#f-occupation").fill("7112")
        page.locator("#f-vacancy_code").fill(f"V-{lang}")
        page.locator("#f-vacancy_posted_on").fill((today - dt.timedelta(days=5)).isoformat())
        page.locator("#f-term_months").fill("12")
        page.locator("#f-starts_on").fill((today + dt.timedelta(days=10)).isoformat())
        page.locator("#f-staff_total").fill("100")
        page.locator("#f-staff_citizens").fill("95")
        page.locator("#f-w0-surname").fill("Каримов")
        page.locator("#f-w0-given_names").fill("Азиз")
        page.locator("#f-w0-sex").select_option("M")
        page.locator("#f-w0-birth_date").fill("1990-01-02")
        page.locator("#f-w0-citizenship").select_option(label="Uzbekistan")
        page.locator("#f-w0-document_number").fill(document)
        page.locator("#f-w0-work_region").select_option(label="Almaty")
        if viewport:
            assert no_sideways_scroll(page)
        page.locator("#continue").click()

        # The failing check, with the rule's words; nothing to submit.
        failed = page.locator("#failed-vacancy_posting")
        assert en("Vacancy posting") in failed.inner_text()
        assert "5 days before the application; at least 15 days are required." in failed.inner_text()
        assert page.locator("#submit").count() == 0 and page.locator("#cannot-submit").is_visible()
        if lang != "en":  # the key screen in the other language: the switch posts the answers again
            page.locator("#lang-switch").get_by_role("button", name="Русский").click()
            failed = page.locator("#failed-vacancy_posting")
            assert t("Vacancy posting") in failed.inner_text()
            assert t("The application does not pass every check") in page.inner_text("#error-summary")
            assert "15" in failed.inner_text() and page.locator("#submit").count() == 0
            assert t("Check your answers before submitting the application") in page.inner_text("h1")
        if viewport:
            assert no_sideways_scroll(page)

        # Back to the form, every answer kept; the date fixed.
        page.locator("#back-to-form").click()
        assert page.locator("#f-w0-document_number").input_value() == document
        page.locator("#f-vacancy_posted_on").fill((today - dt.timedelta(days=20)).isoformat())
        page.locator("#continue").click()
        assert page.locator("#error-summary").count() == 0
        assert t("check passed") in page.locator("#checks tr[data-check=vacancy_posting]").inner_text()
        if viewport:
            assert no_sideways_scroll(page)
        page.locator("#submit").click()

        page.wait_for_url("**/confirmation")
        reference = page.inner_text("#permit-ref")
        assert reference.startswith("WP-") and t("Application submitted") in page.inner_text("h1")
        if viewport:
            assert no_sideways_scroll(page)
        with live_ctx.transaction() as s:
            assert s.execute(sa.select(sa.func.count()).select_from(WorkPermit)
                             .where(WorkPermit.reference == reference)).scalar_one() == 1

        page.get_by_role("link", name=t("Your permits")).first.click()
        page.wait_for_url("**/employer")
        row = page.locator("#permits tbody tr", has_text=reference)
        assert t("application checked") in row.inner_text()
        if viewport:
            assert no_sideways_scroll(page)
        row.get_by_role("link").click()
        assert reference in page.inner_text("h1") and page.locator("#timeline li").count() == 2
        if viewport:
            assert no_sideways_scroll(page)
    finally:
        context.close()


def test_a_returned_application_is_corrected_and_filed_again_in_russian_on_a_phone(browser, live_server, live_ctx,
                                                                                     employer):
    today = employer
    t = translations("ru").gettext
    reason = live_ctx.pack.permits.reasons_for("return")[0]
    with live_ctx.transaction() as s:
        service.save_employer(s, live_ctx, EMPLOYER, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                                  sector="construction"))
        filed = service.submit(s, live_ctx, EMPLOYER, ApplicationIn.model_validate({
            "channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-R",
            "vacancy_posted_on": today - dt.timedelta(days=20), "term_months": 12,
            "starts_on": today + dt.timedelta(days=10), "staff_total": 100, "staff_citizens": 95,
            "workers": [{"surname": "Каримов", "given_names": "Азиз", "sex": "M", "birth_date": "1990-01-02",
                         "citizenship": "UZB", "document_number": "FA7000009", "issuing_state": "UZB",
                         "work_region": "75"}]}), today)
        service.take_step(s, live_ctx, AKIMAT, filed.reference, StepIn(step="return", reason_code=reason.code,
                                                                       note="Код занятия неверен"), today)
    reference = filed.reference
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "employer")
        page.goto(f"/employer/permits/{reference}?lang=ru")
        returned = page.locator("#returned")
        assert t("The akimat returned the application for correction") in returned.inner_text()
        assert "Код занятия неверен" in returned.inner_text() and (reason.names.get("ru") or reason.name) in (
            returned.inner_text())
        assert no_sideways_scroll(page)
        page.get_by_role("button", name=t("Correct and file again")).click()  # a link styled as a button
        page.wait_for_url(f"**/employer/permits/{reference}/correct")
        assert reference in page.inner_text("h1")
        assert page.locator("#f-w0-document_number").input_value() == "FA7000009"  # prefilled as filed
        assert page.locator("#f-occupation").input_value() == "7112"
        assert no_sideways_scroll(page)
        page.locator("#f-occupation").fill("7111")
        page.locator("#continue").click()
        assert page.locator("#error-summary").count() == 0
        assert t("check passed") in page.locator("#checks tr[data-check=vacancy_posting]").inner_text()
        assert no_sideways_scroll(page)
        page.get_by_role("button", name=t("File the application again")).click()

        page.wait_for_url("**/confirmation?done=resubmit")
        assert t("Application filed again") in page.inner_text("h1")
        assert page.inner_text("#permit-ref") == reference
        assert no_sideways_scroll(page)
        with live_ctx.transaction() as s:
            row = s.execute(sa.select(WorkPermit).where(WorkPermit.reference == reference)).scalar_one()
            assert (row.state, row.occupation) == ("checked", "7111")
    finally:
        context.close()
