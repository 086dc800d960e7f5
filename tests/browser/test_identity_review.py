"""End-to-end in headless Chromium: an officer reviews a likely pair, merges it, undoes the merge
from the person page; the queue in Russian."""

from __future__ import annotations

import re

import pytest

from browser.conftest import sign_in
from identity.test_merge import crossing, notice
from kosh.platform.i18n import translations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def likely_pair(live_ctx):
    """The same man twice: a border crossing in Latin, and a host's notification in Cyrillic
    under his second passport."""
    a = crossing(live_ctx, document_number="FA1000001", surname="ABDULLAYEV", given_names="SHUKHRAT",
                 birth_date="1990-05-17", checkpoint="ALA-AIRPORT")
    b = notice(live_ctx, document_number="FB2000002", surname="Абдуллаев", given_names="Шухрат", patronymic="",
               birth_date="1990-05-17", citizenship="UZB", issuing_state="UZB", kato="751700000")
    assert a != b
    return a, b


def test_officer_accepts_a_pair_and_undoes_the_merge(page, likely_pair):
    kept, merged = likely_pair
    sign_in(page, "officer")
    page.get_by_role("link", name="Review", exact=True).click()
    page.wait_for_url("**/identity/review")
    assert page.get_by_role("heading", level=1).inner_text() == "Identity review"
    row = page.locator("tr[data-candidate]")  # queued when the notification was recorded
    assert row.count() == 1
    page.get_by_role("button", name="Look for likely pairs").click()
    assert "0 likely pair(s) put in the queue." in page.get_by_role("status").inner_text()
    assert "ABDULLAYEV SHUKHRAT" in row.inner_text() and "Абдуллаев Шухрат" in row.inner_text()
    row.get_by_role("link", name=re.compile(r"^Compare pair \d+$")).click()
    page.wait_for_url(re.compile(r"/identity/review/\d+$"))
    assert "one person or two?" in page.get_by_role("heading", level=1).inner_text()
    assert "FA1000001" in page.locator("[data-record=a]").inner_text() + page.locator("[data-record=b]").inner_text()
    assert page.locator("tr[data-field=surname] td").first.inner_text() == "the same in another script or romanisation"
    assert page.locator("tr[data-field=birth_date] td").first.inner_text() == "identical"

    page.get_by_role("button", name="Reject").click()  # without a reason: refused, nothing decided
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Give the reason for this decision." in alert.inner_text()
    assert page.get_by_label("Reason").get_attribute("aria-invalid") == "true"
    assert page.locator("[data-pair-status]").get_attribute("data-pair-status") == "open"

    page.get_by_label("Reason").fill("Same photo in both passports, same birth date")
    page.keyboard.press("Tab")  # the keyboard reaches the first decision button: Accept (merge)
    assert page.get_by_role("button", name="Accept (merge)").evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**?decided=1")
    assert page.get_by_role("status").inner_text() == "Decision saved."
    assert page.locator("[data-pair-status]").get_attribute("data-pair-status") == "accepted"

    page.get_by_role("link", name="Open the merged person").click()
    page.wait_for_url(f"**/persons/{kept}")
    merges = page.get_by_role("region", name="Merges")
    assert "Same photo in both passports" in merges.inner_text()
    assert "FB2000002" in page.inner_text("main")  # the second passport is the kept person's now
    page.goto(f"/persons/{merged}")  # the merged id leads to the kept person
    assert page.locator(f"[data-merged-from='{merged}']").is_visible()
    assert kept in page.locator("main code").first.inner_text()

    page.get_by_label("Why undo this merge").fill("Two brothers: different fathers' names")
    page.get_by_role("button", name="Undo this merge").click()
    page.wait_for_url(f"**/persons/{kept}?undone=*")
    assert "The merge was undone" in page.get_by_role("status").inner_text()
    assert "FB2000002" not in page.inner_text("main")
    assert page.get_by_role("button", name="Undo this merge").count() == 0
    page.get_by_role("link", name="Open the other record").click()
    page.wait_for_url(f"**/persons/{merged}")
    assert merged in page.locator("main code").first.inner_text() and "FB2000002" in page.inner_text("main")
    assert page.locator("[data-merged-from]").count() == 0

    page.goto("/identity/review?status=rejected")
    assert page.locator("tr[data-candidate]").count() == 1  # undoing the merge rejected the pair


def test_the_review_queue_in_russian(page, likely_pair):
    ru = translations("ru").gettext
    sign_in(page, "officer")
    page.goto("/identity/review?lang=ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == ru("Identity review") and heading != "Identity review"
    assert page.get_by_role("link", name=ru("Review"), exact=True).is_visible()
    assert page.get_by_role("button", name=ru("Look for likely pairs")).is_visible()
