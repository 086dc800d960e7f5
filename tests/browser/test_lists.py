"""The overstay list in headless Chromium on a phone-width screen, in English and Russian: the
total, pages forwards and back, a sort, and a CSV export that asks for its purpose first."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

import factories as f
from browser.conftest import sign_in
from kosh.platform.i18n import format_day, gettext_for
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn

pytestmark = pytest.mark.browser

PERSONS = 55  # more than one page of 50
FIRST_ENTRY = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def overstayers(live_ctx):
    vc = service.validation_context(live_ctx)
    rows = [f.border_event(source_event_id=f"L{i}", document_number=f"FL70{i:05d}", checkpoint="ALA-AIRPORT",
                           occurred_at=f"{FIRST_ENTRY + dt.timedelta(days=i)}T09:00:00+05:00")
            for i in range(PERSONS)]
    with live_ctx.transaction() as s:
        service.record_border_events(s, live_ctx, system_principal("browser tests"),
                                     [validate_model(BorderEventIn, r, vc) for r in rows])
    return PERSONS


def rows(page):
    return page.locator("table.responsive tbody tr")


def no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def download(page, button: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_overstay_list_pages_sorts_and_exports_on_a_phone(page, overstayers, lang):
    say = gettext_for(lang)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "officer")
    page.goto(f"/stay/overstays?on=2026-06-01&lang={lang}")
    assert page.locator("#list-total").inner_text() == say("Persons on this list: %(n)s") % {"n": overstayers}
    assert rows(page).count() == 50
    first_row = rows(page).first.inner_text()
    no_sideways_scroll(page)

    page.get_by_role("link", name=say("Next")).click()
    page.wait_for_url("**cursor=**")
    assert rows(page).count() == overstayers - 50
    assert page.get_by_role("link", name=say("Next")).count() == 0
    page.get_by_role("link", name=say("Previous")).click()
    page.wait_for_load_state()
    assert rows(page).count() == 50 and rows(page).first.inner_text() == first_row

    # The sort from the filter form (the column headings are hidden on a phone).
    page.get_by_label(say("Sort")).select_option("-entry")
    page.get_by_role("button", name=say("Show"), exact=True).click()
    page.wait_for_url("**sort=-entry**")
    latest = FIRST_ENTRY + dt.timedelta(days=overstayers - 1)
    assert format_day(latest, lang) in rows(page).first.inner_text()
    no_sideways_scroll(page)

    # A purpose too short is refused beside the field, in the reader's language; then the file comes.
    page.get_by_label(say("Purpose of the export")).fill("ab")
    page.get_by_role("button", name=say("Download CSV")).click()
    error = page.locator("#e-purpose")
    error.wait_for()
    assert error.inner_text() == say("State the purpose of the export (a case number or the reason) in at least "
                                     "%(n)s characters.") % {"n": 4}
    page.get_by_label(say("Purpose of the export")).fill("Case 2026/41 — overstay check")
    table = download(page, say("Download CSV"))
    assert table[0][1] == say("Surname") and len(table) == overstayers + 1
    entries = [row[7] for row in table[1:]]
    assert entries == sorted(entries, reverse=True)  # the file keeps the list's order
