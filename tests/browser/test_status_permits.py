"""Migrants: a household worker checks their status in Uzbek on a phone (390 px), in headless
Chromium, and reads their work permit on the result page: its kind, state, region, term, the
employer and the next monthly prepayment."""

from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from kosh.flows import selfservice as flow
from kosh.permits import household, ledger
from kosh.permits import service as permits
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform.i18n import format_day, translations
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
IIN = "900101300017"
HOUSEHOLD = Principal("household", Role.EMPLOYER, user_id=3, host_party=IIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=4, regions=("75",))
SYSTEM = system_principal("browser tests")
APPLIED = dt.date(2026, 3, 2)
DOCUMENT = "FS7000031"
UZ = {"start": "Boshlash", "citizenship": "Fuqarolik", "number": "Hujjat raqami", "born": "Tugʻilgan sana",
      "continue": "Davom etish", "result": "Boʻlish maqomingiz", "day": "Kun", "month": "Oy", "year": "Yil"}


@pytest.fixture(scope="module")
def permit(live_ctx) -> str:
    """An Uzbek who entered five days ago, with a household worker's permit (2 Mar – 1 Jun 2026)
    whose March prepayment is paid: April is due next."""
    ctx = live_ctx
    entered = service.local_today(ctx) - dt.timedelta(days=5)
    with ctx.transaction() as s:
        service.record_border_events(s, ctx, SYSTEM, [validate_model(BorderEventIn, f.border_event(
            document_number=DOCUMENT, surname="TESTOVWP", occurred_at=f"{entered.isoformat()}T09:00:00+05:00"),
            service.validation_context(ctx))])
        ledger.set_quota(s, ctx, Principal("ministry", Role.MINISTRY, user_id=1), year=2026, region="75",
                         category="household", allowed=5)
        permits.save_employer(s, ctx, HOUSEHOLD, EmployerIn(employer_name="Aigerim Sarsenova", region="75",
                                                            sector="household"))
        ref = permits.submit(s, ctx, HOUSEHOLD, ApplicationIn.model_validate({
            "channel": "household_worker", "category": "", "occupation": "9111", "term_months": 3,
            "starts_on": "2026-03-02", "staff_total": 0, "staff_citizens": 0, "workers": [{
                "surname": "Testovwp", "given_names": "Shukhrat", "birth_date": "1990-05-17", "citizenship": "UZB",
                "document_number": DOCUMENT, "issuing_state": "UZB", "work_region": "75", "sex": "M"}]}),
            APPLIED).reference
    for who, step in ((AKIMAT, "approve"), (HOUSEHOLD, "pay_fee"), (AKIMAT, "issue")):
        with ctx.transaction() as s:
            permits.take_step(s, ctx, who, ref, StepIn(step=step), APPLIED)
    with ctx.transaction() as s:
        household.record_payments(s, ctx, SYSTEM, [household.PaymentIn(ref, "2026-03", 17300, APPLIED, "PAY-B1")])
    return ref


def test_the_status_page_in_uzbek_shows_the_permit_and_its_next_payment(browser, live_server, live_ctx, permit):
    _ = translations("uz").gettext
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/status?lang=uz")
        page.get_by_role("button", name=UZ["start"]).click()
        page.wait_for_url("**/status/check")
        page.get_by_label(UZ["citizenship"]).select_option("UZB")
        page.get_by_label(UZ["number"]).fill(DOCUMENT)
        group = page.get_by_role("group", name=UZ["born"])
        for part, value in (("day", "17"), ("month", "5"), ("year", "1990")):
            group.get_by_label(UZ[part], exact=True).fill(value)
        page.get_by_role("button", name=UZ["continue"]).click()
        page.get_by_role("heading", level=1, name=UZ["result"]).wait_for()

        section = page.locator("#permits")
        section.get_by_role("heading", name=_("Your work permits")).wait_for()
        card = section.locator(f'[data-permit="{permit}"]')
        text = card.inner_text()
        assert _("household worker's permit") in text and permit in text
        assert _("permit issued") in card.locator("[data-state]").inner_text()
        assert live_ctx.pack.region_for_kato("750000000").name("uz") in card.locator("[data-regions]").inner_text()
        term = card.locator("[data-term]").inner_text()
        assert format_day(dt.date(2026, 3, 2), "uz") in term and format_day(dt.date(2026, 6, 1), "uz") in term
        assert "Aigerim Sarsenova" in text
        amount = household.monthly_amount(live_ctx, service.local_today(live_ctx)) or 0
        due = card.locator("[data-next-payment]")
        assert due.is_visible()
        assert due.inner_text() == f"{flow.month_words('2026-04', 'uz')}: {flow.kzt(amount, 'uz')}"
        assert card.locator("[data-unpaid]").count() == 0  # paid up to March: nothing is suspended
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    finally:
        context.close()
