"""The host's whole journey in headless Chromium: start page → form (the town found by typing,
narrowed by the server through htmx) → check your answers (with a Change link) → confirmation with
a reference → guests → detail → correct → cancel. In English on a desktop and in Russian at 390 px."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.conftest import sign_in
from kosh.platform.i18n import translations
from kosh.stay.models import HostNotification

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def wide(pg) -> bool:
    return pg.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.mark.parametrize("lang, viewport, surname, typed", [
    ("en", None, "Karimov", "Kar"),
    ("ru", PHONE, "Каримова", "Кара"),
])
def test_host_journey(browser, live_server, live_ctx, lang, viewport, surname, typed):
    t = translations(lang).gettext
    context = browser.new_context(base_url=live_server, locale="en-GB", **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "host")
        page.goto(f"/host?lang={lang}")
        assert t("Notify the arrival of a foreign guest") in page.inner_text("h1")
        assert t("If you notify late") in page.inner_text("main")
        page.get_by_role("button", name=t("Start now")).click()  # a link styled as a button
        page.wait_for_url("**/host/notify")
        assert "Host" in page.inner_text("#host-identity")  # the account's party, not a field

        page.locator("#f-surname").fill(surname)
        page.locator("#f-given_names").fill("Dilnoza")
        page.locator("#f-sex").select_option("F")
        page.locator("#f-birth_date").fill("1994-02-11")
        page.locator("#f-citizenship").select_option("UZB")
        page.locator("#f-document_number").fill(f"FA55{len(lang)}0001{lang.upper()}")
        # The town: typing narrows the list the server sends back (htmx), then one is chosen.
        assert page.locator("#settlement-options option").count() == len(live_ctx.pack.settlements)
        page.locator("#f-settlement").press_sequentially(typed, delay=30)
        matching = live_ctx.pack.find_settlements(typed, lang)
        assert 0 < len(matching) < len(live_ctx.pack.settlements)
        expect(page.locator("#settlement-options option")).to_have_count(len(matching))
        offered = page.locator("#settlement-options option").first.get_attribute("value")
        assert offered and offered.lower().startswith(typed.lower())
        page.locator("#f-settlement").fill(offered)
        page.locator("#f-address").fill("ул. Ерубаева 5")
        page.locator("#f-arrival_date").fill("2026-03-02")
        page.get_by_role("button", name=t("Continue")).click()

        assert t("Check your answers before sending the notification") in page.inner_text("h1")
        assert offered in page.inner_text("main") and page.locator("#late-warning").is_visible()
        # Change the address: back to the form with every answer kept.
        page.locator("button[name=change][value=address]").click()
        assert page.locator("#f-surname").input_value() == surname
        assert page.locator("#f-settlement").input_value() == offered
        page.locator("#f-address").fill("ул. Ерубаева 7")
        page.get_by_role("button", name=t("Continue")).click()
        assert "ул. Ерубаева 7" in page.inner_text("main")
        if viewport:
            assert not wide(page)
        page.locator("#send").click()

        page.wait_for_url("**/confirmation")
        reference = page.inner_text("#notification-ref")
        assert reference.startswith("KZ-") and t("Notification sent") in page.inner_text("h1")
        with live_ctx.transaction() as s:
            assert s.execute(sa.select(sa.func.count()).select_from(HostNotification)
                             .where(HostNotification.reference == reference)).scalar_one() == 1

        page.get_by_role("link", name=t("Your guests")).first.click()
        page.wait_for_url("**/host/guests")
        row = page.locator("#guests tbody tr", has_text=reference)
        assert t("active") in row.inner_text()
        if viewport:
            assert not wide(page)
        row.get_by_role("link").click()
        assert reference in page.inner_text("#reference")

        page.get_by_role("link", name=t("Correct the details")).click()
        assert page.locator("#f-address").input_value() == "ул. Ерубаева 7"
        page.locator("#f-address").fill("ул. Ерубаева 9")
        page.get_by_role("button", name=t("Continue")).click()
        page.locator("#send").click()
        page.wait_for_url("**/confirmation")
        assert page.inner_text("#notification-ref") == reference  # the same reference, a new version
        page.get_by_role("link", name=t("See this notification")).click()
        versions = page.locator("#versions tbody tr")
        assert versions.count() == 2
        assert t("superseded") in page.inner_text("#versions") and t("corrected") in page.inner_text("#versions")

        page.get_by_role("link", name=t("Cancel the notification")).click()
        page.get_by_role("button", name=t("Cancel the notification")).click()  # no reason given
        assert page.get_by_role("alert").is_visible()
        assert t("Say why the notification is cancelled.") in page.inner_text("#e-reason")
        page.locator("#f-reason").fill("Гость не приехал" if lang == "ru" else "The guest did not come")
        page.get_by_role("button", name=t("Cancel the notification")).click()
        assert t("The notification is cancelled.") in page.inner_text("main")
        assert t("cancelled") in page.inner_text(".tag-cancelled")
        if viewport:
            assert not wide(page)
        with live_ctx.transaction() as s:
            kept = s.execute(sa.select(HostNotification).where(HostNotification.reference == reference)
                             .order_by(HostNotification.version)).scalars().all()
        assert [(n.version, n.superseded_at is not None, n.cancelled_at is not None) for n in kept] == [
            (1, True, False), (2, False, True)]
    finally:
        context.close()
