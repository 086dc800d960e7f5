"""The violations-in-a-period list in headless Chromium on a phone-width screen, in English and
Russian: filter by period and kind with the form, the due day in words, an error beside its field."""

from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from browser.conftest import sign_in
from kosh.platform.i18n import format_day, gettext_for
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def forty_days(live_ctx):
    """Uzbekistan, Almaty airport, Mon 2026-03-02 – 04-10, never notified: notification due Mar 5,
    missed Mar 6 – Apr 10; 30 days per entry, Apr 1–10 over."""
    vc = service.validation_context(live_ctx)
    rows = [f.border_event(source_event_id="VB1", document_number="FV7000001", checkpoint="ALA-AIRPORT",
                           occurred_at="2026-03-02T09:00:00+05:00"),
            f.border_event(source_event_id="VB2", document_number="FV7000001", checkpoint="ALA-AIRPORT",
                           direction="exit", occurred_at="2026-04-10T18:00:00+05:00")]
    with live_ctx.transaction() as s:
        service.record_border_events(s, live_ctx, system_principal("browser tests"),
                                     [validate_model(BorderEventIn, r, vc) for r in rows])


def rows(page):
    return page.locator("table[data-violations-list] tbody tr")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_violations_filtered_by_period_and_kind_on_a_phone(page, forty_days, lang):
    say = gettext_for(lang)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "officer")
    page.goto(f"/stay/violations?lang={lang}")
    page.get_by_label(say("From"), exact=True).fill("2026-03-01")
    page.get_by_label(say("To"), exact=True).fill("2026-04-30")
    page.get_by_label(say("notification_missed")).check()
    page.get_by_role("button", name=say("Show"), exact=True).click()
    page.wait_for_url("**kind=notification_missed**")
    assert rows(page).count() == 1
    row = rows(page).first.inner_text()
    assert say("notification_missed") in row and format_day(dt.date(2026, 3, 5), lang) in row
    assert format_day(dt.date(2026, 3, 6), lang) in row and "36" in row  # Mar 6 – Apr 10
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    # Every kind: the overstay too.
    page.get_by_label(say("notification_missed")).uncheck()
    page.get_by_role("button", name=say("Show"), exact=True).click()
    page.wait_for_load_state()
    assert rows(page).count() == 2

    # A period that ends before it starts: said beside the field, and in the summary.
    page.get_by_label(say("To"), exact=True).fill("2026-02-01")
    page.get_by_role("button", name=say("Show"), exact=True).click()
    page.wait_for_load_state()
    said = say("must be on or after the first day (%(first)s)") % {"first": format_day(dt.date(2026, 3, 1), lang)}
    assert page.locator("#e-to").inner_text() == said
    assert page.locator("#error-summary").is_visible() and rows(page).count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
