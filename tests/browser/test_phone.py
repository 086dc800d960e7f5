"""On a phone (390 px wide) in headless Chromium: no page scrolls sideways, tables become cards, the
calculator works with and without JavaScript, and switching language keeps what is on the page."""

from __future__ import annotations

import re

import pytest

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.platform import auth
from kosh.platform.i18n import translations
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn, NotificationIn

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
RU = translations("ru").gettext
KK = translations("kk").gettext


@pytest.fixture(scope="module")
def registered(live_ctx):
    """An Uzbek worker in Almaty (notified late, so on the overdue list), and an admin account."""
    vc = service.validation_context(live_ctx)
    admin = system_principal("browser tests")
    with live_ctx.transaction() as s:
        r = service.record_border_events(s, live_ctx, admin, [validate_model(BorderEventIn, f.border_event(
            source_event_id="P-B-1", occurred_at="2026-03-02T09:00:00+05:00"), vc)])
        service.record_notifications(s, live_ctx, admin, [validate_model(NotificationIn, f.notification(
            source_event_id="P-N-1", submitted_at="2026-03-09T12:00:00+05:00"), vc)])
        auth.create_user(s, live_ctx, username="chief", password=PASSWORD, role="admin", display_name="Chief")
    return r.person_ids[0]


@pytest.fixture
def phone(browser, live_server, request):
    """A phone-sized page; `phone(js=False)` has JavaScript turned off."""
    contexts = []

    def make(js: bool = True, locale: str = "en-GB"):
        context = browser.new_context(base_url=live_server, locale=locale, viewport=PHONE,
                                      java_script_enabled=js)
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        return pg

    yield make
    for context in contexts:
        context.close()


def overflow(pg) -> str:
    """'' when the page is no wider than the screen, else the widths and the elements that stick out."""
    return pg.evaluate("""() => {
      const root = document.documentElement;
      if (root.scrollWidth <= root.clientWidth) return "";
      const out = [...document.querySelectorAll("body *")]
        .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
        .slice(0, 5).map(el => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className);
      return `${location.pathname}: ${root.scrollWidth} > ${root.clientWidth} (${out.join(", ")})`;
    }""")


def open_page(pg, url: str) -> None:
    """Go to `url`; a person's record first asks the purpose of access, which is given."""
    pg.goto(url)
    if urlpath(pg.url) == "/purpose" and pg.locator("#f-purpose").count():
        assert not overflow(pg), overflow(pg)
        pg.locator("#f-purpose").fill("case 2-114/2026, phone layout check")
        pg.locator("main form button[type=submit]").click()
        pg.wait_for_load_state()


def urlpath(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


def nav_links(pg) -> list[str]:
    return pg.locator("header nav[aria-label] ul a").evaluate_all("els => els.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("user", [None, "officer", "host", "chief"])
def test_no_page_scrolls_sideways_on_a_phone(phone, registered, user):
    pg = phone()
    if user:
        sign_in(pg, user)
    pages = ["/", "/calculator", "/calculator?citizenship=UZB&start=2026-01-05&end=2026-02-10&start=2026-03-01&end="
             "&on=2026-04-01", "/calculator?lang=kk"]
    pages += [href for href in nav_links(pg) if href and href.startswith("/") and href not in pages]
    if user == "officer":
        pages += [f"/persons/{registered}", f"/persons/{registered}?lang=ru", "/import/history", "/access/new",
                  "/stay/overstays?lang=kk", "/persons?lang=ru"]
    if user == "chief":
        pages += ["/admin/users/officer", "/admin/users/chief/confirm?action=revoke-tokens"]
    if user is None:
        pages += ["/login"]
    checked = []
    for url in pages:
        open_page(pg, url)
        assert not overflow(pg), overflow(pg)
        checked.append(url)
        if user == "officer" and url.startswith(("/stay/overstays", "/persons/")):
            assert pg.locator("table.responsive tbody tr").count() >= 1  # a table with rows, as cards
    assert len(checked) >= 4


def test_search_results_are_cards_with_their_column_names(phone, registered):
    pg = phone()
    sign_in(pg, "officer")
    pg.goto("/persons")
    pg.get_by_label("Name in any script, or document number").fill("FA1234567")
    pg.get_by_role("button", name="Search").click()
    row = pg.locator("#results tbody tr").first
    row.wait_for()
    assert not overflow(pg), overflow(pg)
    # Each cell is on its own line, named by its column; the column headings themselves are not shown.
    cells = row.locator("td")
    boxes = [box for box in (cells.nth(i).bounding_box() for i in range(cells.count())) if box]  # empty: hidden
    assert len(boxes) >= 3
    assert all(b["y"] >= a["y"] + a["height"] - 1 for a, b in zip(boxes, boxes[1:], strict=False)), boxes
    assert all(b["x"] == boxes[0]["x"] for b in boxes)
    country = row.locator("td[data-label=Citizenship]")
    assert country.evaluate("el => getComputedStyle(el, '::before').content") == '"Citizenship: "'
    assert not pg.locator("#results thead").is_visible() or pg.locator("#results thead").bounding_box()["width"] <= 1


def test_calculator_without_javascript_adds_and_removes_trips(phone):
    pg = phone(js=False)
    pg.goto("/calculator?lang=ru")
    pg.locator("#citizenship").select_option("UZB")
    pg.locator("#start-0").fill("2025-12-01")
    pg.locator("#end-0").fill("2025-12-05")
    pg.get_by_role("button", name=RU("Add another trip")).click()
    pg.locator("#start-1").wait_for()
    assert pg.locator("#start-0").input_value() == "2025-12-01" and pg.locator("#end-0").input_value() == "2025-12-05"
    assert pg.locator("#citizenship").input_value() == "UZB" and pg.locator("#result").count() == 0
    pg.locator("#start-1").fill("2026-01-05")
    pg.locator("#end-1").fill("2026-02-10")
    pg.get_by_role("button", name=RU("Add another trip")).click()
    pg.locator("#start-2").fill("2026-03-01")
    # The first trip goes; the others keep what was typed in them.
    pg.get_by_role("button", name=RU("Remove trip %(n)s") % {"n": 1}).click()
    pg.locator("#start-2").wait_for(state="detached")
    assert [pg.locator(f"#start-{i}").input_value() for i in range(2)] == ["2026-01-05", "2026-03-01"]
    assert pg.locator("#end-0").input_value() == "2026-02-10" and pg.locator("#end-1").input_value() == ""
    pg.locator("#on").fill("2026-04-01")
    pg.locator("form#calc").get_by_role("button", name=RU("Calculate")).click()
    pg.locator("#result").wait_for()
    assert pg.locator("[data-figure=days_used]").inner_text() == str(37 + 32)
    assert pg.locator("html").get_attribute("lang") == "ru"
    assert not overflow(pg), overflow(pg)


def test_calculator_removes_a_trip_and_brings_the_result_into_view(phone):
    pg = phone()
    pg.goto("/calculator")
    pg.locator("#citizenship").select_option("UZB")
    pg.locator("#start-0").fill("2025-06-01")
    pg.locator("#end-0").fill("2025-06-10")
    pg.get_by_role("button", name="Add another trip").click()
    # The new trip's entry date has the focus, and is in view.
    assert pg.locator("#start-1").evaluate("el => el === document.activeElement")
    pg.locator("#start-1").fill("2026-01-05")
    pg.locator("#end-1").fill("2026-02-10")
    pg.get_by_role("button", name="Remove trip 1").click()
    pg.locator("#start-1").wait_for(state="detached")
    assert pg.locator("#start-0").input_value() == "2026-01-05"
    assert pg.get_by_role("button", name=re.compile("^Remove")).count() == 0  # a single trip is changed, not removed
    pg.locator("#on").fill("2026-04-01")
    result = pg.locator("#result-heading")
    assert not result.count()
    pg.locator("#on").press("Enter")  # Enter in a field calculates, it neither adds nor removes a trip
    result.wait_for()
    assert result.evaluate("el => el === document.activeElement")
    box, height = result.bounding_box(), PHONE["height"]
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, box
    assert pg.locator("[data-figure=days_used]").inner_text() == "37"
    assert pg.locator("#start-1").count() == 0


@pytest.mark.parametrize("js", [True, False])
def test_calculator_takes_a_work_permit_on_a_phone(phone, js):
    """An Uzbek worker 100 days in the country: an overstay without the work permit, lawful with it; the
    permit row is added by the form's own button and kept when the language is switched."""
    pg = phone(js=js)
    pg.goto("/calculator")
    pg.locator("#citizenship").select_option("UZB")
    pg.locator("#start-0").fill("2026-01-01")
    pg.locator("#on").fill("2026-04-10")
    pg.get_by_role("button", name="Add a visa or permit").click()
    pg.locator("#permit-kind-0").wait_for()
    assert pg.locator("#start-0").input_value() == "2026-01-01" and pg.locator("#result").count() == 0
    assert pg.locator("#permit-kind-0").evaluate("el => el === document.activeElement")
    assert not overflow(pg), overflow(pg)
    pg.locator("#permit-kind-0").select_option("work_permit")
    pg.locator("#permit-start-0").fill("2026-01-21")
    pg.locator("#permit-end-0").fill("2026-12-31")
    pg.locator("form#calc").get_by_role("button", name="Calculate").click()
    pg.locator("#result").wait_for()
    assert pg.locator("[data-status]").get_attribute("data-status") == "lawful"
    assert "Days covered by your work permit from" in pg.locator("#permit-notes").inner_text()
    assert not overflow(pg), overflow(pg)
    pg.get_by_role("navigation", name="Language").get_by_role("link", name="Русский").click()
    pg.wait_for_url("**lang=ru**")
    assert pg.locator("#permit-kind-0").input_value() == "work_permit"
    assert pg.locator("#permit-end-0").input_value() == "2026-12-31"
    assert pg.locator("[data-status]").get_attribute("data-status") == "lawful"
    assert RU("Work permit") in pg.locator("#permit-kind-0").inner_text()
    assert not overflow(pg), overflow(pg)
    # Removed, the permit no longer counts: the same trip is an overstay.
    pg.get_by_role("button", name=RU("Remove permit %(n)s") % {"n": 1}).click()
    pg.locator("#permit-kind-0").wait_for(state="detached")
    pg.locator("form#calc").get_by_role("button", name=RU("Calculate")).click()
    pg.locator("#result").wait_for()
    assert pg.locator("[data-status]").get_attribute("data-status") == "overstay"


@pytest.mark.parametrize("js", [True, False])
def test_switching_language_keeps_the_calculators_trips_and_result(phone, js):
    pg = phone(js=js)
    pg.goto("/calculator")
    pg.locator("#citizenship").select_option("UZB")
    pg.locator("#start-0").fill("2026-01-05")
    pg.locator("#end-0").fill("2026-02-10")
    pg.get_by_role("button", name="Add another trip").click()
    pg.locator("#start-1").fill("2026-03-01")
    pg.locator("#on").fill("2026-04-01")
    pg.locator("form#calc").get_by_role("button", name="Calculate").click()
    pg.locator("#result").wait_for()
    status_en = pg.locator("[data-status]").inner_text()
    pg.get_by_role("navigation", name="Language").get_by_role("link", name="Русский").click()
    pg.wait_for_url("**lang=ru**")
    assert pg.locator("html").get_attribute("lang") == "ru"
    assert [pg.locator(f"#start-{i}").input_value() for i in range(2)] == ["2026-01-05", "2026-03-01"]
    assert pg.locator("#citizenship").input_value() == "UZB" and pg.locator("#on").input_value() == "2026-04-01"
    assert pg.locator("[data-figure=days_used]").inner_text() == str(37 + 32)
    assert pg.locator("[data-status]").get_attribute("data-status") == "overstay"
    assert pg.locator("[data-status]").inner_text() == RU("overstay") != status_en
    assert RU("days used") in pg.locator("#result").inner_text()
    # And back, from Russian to Kazakh: still the same trips.
    pg.get_by_role("navigation", name=RU("Language")).get_by_role("link", name="Қазақша").click()
    pg.wait_for_url("**lang=kk**")
    assert pg.locator("[data-figure=days_used]").inner_text() == str(37 + 32)
    assert KK("days used") in pg.locator("#result").inner_text()


@pytest.mark.parametrize("js", [True, False])
def test_switching_language_keeps_the_search_and_its_results(phone, registered, js):
    pg = phone(js=js)
    sign_in(pg, "officer")
    pg.goto("/persons")
    pg.get_by_label("Name in any script, or document number").fill("Abdullaev")
    pg.get_by_role("button", name="Search").click()
    found = pg.locator(f'#results a[href="/persons/{registered}"]')
    found.wait_for()
    pg.get_by_role("navigation", name="Language").get_by_role("button", name="Русский").click()
    pg.wait_for_url("**/persons?lang=ru")
    assert pg.locator("html").get_attribute("lang") == "ru"
    assert pg.locator("#q").input_value() == "Abdullaev"
    assert pg.locator(f'#results a[href="/persons/{registered}"]').count() == 1
    assert RU("Latin form") in pg.locator("#results").inner_text()
    # Still posted: the query is not in the address.
    assert "Abdullaev" not in pg.url


def test_switching_language_keeps_a_half_filled_form(phone):
    pg = phone()
    sign_in(pg, "officer")
    pg.goto("/notifications/new")
    pg.get_by_label("Host name").fill("Иванов Пётр")
    pg.locator("#f-surname").fill("Каримов")
    pg.locator("#f-birth_date").fill("1991-01-20")
    pg.get_by_role("navigation", name="Language").get_by_role("link", name="Қазақша").click()
    pg.wait_for_url("**lang=kk**")
    assert pg.locator("html").get_attribute("lang") == "kk"
    assert pg.locator("#f-host_name").input_value() == "Иванов Пётр"
    assert pg.locator("#f-surname").input_value() == "Каримов"
    assert pg.locator("#f-birth_date").input_value() == "1991-01-20"
    # Kept for that one page load only: nothing typed stays in the browser's storage.
    assert "Каримов" not in pg.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")


def test_the_language_switch_does_not_switch_on_an_arrow_key(phone, live_server):
    pg = phone()
    pg.goto("/calculator?citizenship=UZB&start=2026-01-05&end=&on=2026-02-01")
    documents = []
    pg.on("request", lambda req: documents.append(req.url) if req.resource_type == "document" else None)
    switch = pg.get_by_role("navigation", name="Language")
    first = switch.get_by_role("link").first
    first.focus()
    for key in ("ArrowDown", "ArrowDown", "ArrowUp"):
        pg.keyboard.press(key)
    # A round trip to the server after the keys: any navigation they started would have been asked first.
    assert pg.evaluate("() => fetch('/calculator').then(r => r.status)") == 200
    assert documents == [] and pg.locator("html").get_attribute("lang") == "en"
    assert pg.url.startswith(f"{live_server}/calculator?citizenship=UZB")
    assert first.evaluate("el => el === document.activeElement")
    first.press("Enter")  # chosen on purpose: it switches, and keeps the calculation
    pg.wait_for_load_state()
    assert pg.locator("html").get_attribute("lang") != "en" and pg.locator("#result").count() == 1
