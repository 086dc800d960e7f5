"""The akimat's permit queue and the ministry's quota page in headless Chromium: an application
approved and issued moves the region's quota counters; with the quota lowered to 10 places the
11th approval is refused with the ledger's reason on the page, in the officer's language; the
queue in Russian on a phone without sideways scrolling.

The data is made here with the service functions, on the real day (the pages' today), so that the
app's own daily job lapses nothing; the test lapses holds itself with a daily run a month ahead."""

from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.permits import ledger, service
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth
from kosh.platform.i18n import say, translations
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.words import N_, Msg, region_name

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
RU = translations("ru").gettext
EMPLOYER = Principal("employer.b", Role.EMPLOYER, user_id=900, host_party=f.HOST_BIN)
MINISTRY = Principal("ministry.b", Role.MINISTRY, user_id=901)
ASTANA_APPLICATIONS = 11


def _worker(n: int, region: str) -> dict:
    return {"surname": f"Tashkentov{n:02d}", "given_names": f"Bobur{chr(65 + n % 26)}",
            "birth_date": f"{1970 + n % 30}-02-03", "citizenship": "UZB",
            "document_number": f"FB{2000000 + n}", "issuing_state": "UZB",
            "work_region": region, "sex": "M"}


@pytest.fixture(scope="module")
def permits(live_ctx):
    """Users (an akimat officer for Almaty and Astana, the ministry, an employer), quotas, 11
    Astana applications whose holds have lapsed and one fresh Almaty application."""
    today = dt.datetime.now(live_ctx.pack.zone).date()
    starts = today + dt.timedelta(days=20)

    def application(workers: list[dict]) -> ApplicationIn:
        return ApplicationIn.model_validate({
            "channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-7",
            "vacancy_posted_on": (today - dt.timedelta(days=40)).isoformat(), "term_months": 12,
            "starts_on": starts.isoformat(), "staff_total": 200, "staff_citizens": 190, "workers": workers})

    with live_ctx.transaction() as s:
        for name, role, regions, party in [("akimat", "akimat", ["75", "71"], None), ("ministry", "ministry", [], None),
                                           ("employer", "employer", [], f.HOST_BIN)]:
            auth.create_user(s, live_ctx, username=name, password=PASSWORD, role=role, regions=regions,
                             host_party=party, display_name=name.title())
        service.save_employer(s, live_ctx, EMPLOYER, EmployerIn(employer_name="Baiterek Stroi LLP", region="71",
                                                                sector="construction"))
        ledger.set_quota(s, live_ctx, MINISTRY, year=starts.year, region="71", category="3",
                         allowed=ASTANA_APPLICATIONS)
        ledger.set_quota(s, live_ctx, MINISTRY, year=starts.year, region="75", category="3", allowed=5)
    astana = []
    for n in range(ASTANA_APPLICATIONS):
        with live_ctx.transaction() as s:
            astana.append(service.submit(s, live_ctx, EMPLOYER, application([_worker(n, "71")]), today).reference)
    with live_ctx.transaction() as s:  # a month on, every hold has lapsed: approval draws the places again
        report = service.run_daily(s, live_ctx, system_principal("browser tests"), today + dt.timedelta(days=30))
    assert report.lapsed_reservations == ASTANA_APPLICATIONS
    with live_ctx.transaction() as s:
        almaty = service.submit(s, live_ctx, EMPLOYER, application([_worker(50, "75")]), today).reference
    return {"today": today, "year": starts.year, "astana": astana, "almaty": almaty}


@pytest.fixture
def as_user(browser, live_server):
    """A signed-in page for `user` (`as_user(user, viewport=…)`); each its own browser context."""
    contexts = []

    def make(user: str, viewport: dict | None = None):
        context = browser.new_context(base_url=live_server, locale="en-GB", viewport=viewport or
                                      {"width": 1280, "height": 900})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        sign_in(pg, user)
        return pg

    yield make
    for context in contexts:
        context.close()


def counters(pg, year: int, region: str) -> dict[str, int]:
    pg.goto(f"/quotas?year={year}&category=3")
    row = pg.locator(f"#cell-{region}-3")
    return {k: int(row.locator(f"td.{k}").inner_text()) for k in ("allowed", "reserved", "used", "free")}


def test_an_approved_and_issued_application_moves_the_quota_counters(as_user, permits, live_ctx):
    pg = as_user("akimat")
    before = counters(pg, permits["year"], "75")
    assert before == {"allowed": 5, "reserved": 1, "used": 0, "free": 4}
    assert pg.locator("#quota-chart svg title").first.text_content()  # the chart has its title
    pg.goto("/permits/queue")
    row = pg.locator(f"#row-{permits['almaty']}")
    assert "Baiterek Stroi LLP" in row.inner_text() and "category 3 (specialists)" in row.inner_text()
    row.get_by_role("link", name=permits["almaty"]).click()
    pg.wait_for_url(f"**/permits/{permits['almaty']}")
    assert pg.locator("#checks").get_by_text("Vacancy posting").count() == 1
    pg.locator("#form-approve button").click()
    assert pg.locator("#done").inner_text() == "The application is approved."
    assert pg.locator("#state").inner_text() == "application approved"
    with live_ctx.transaction() as s:  # the employer pays the fee (its own pages)
        service.take_step(s, live_ctx, EMPLOYER, permits["almaty"], StepIn(step="pay_fee"), permits["today"])
    pg.reload()
    pg.locator("#form-issue button").click()
    assert pg.locator("#done").inner_text() == "The permit is issued."
    after = counters(pg, permits["year"], "75")
    assert after == {"allowed": 5, "reserved": 0, "used": 1, "free": 4}


def test_the_eleventh_approval_against_ten_places_is_refused_with_the_reason_on_screen(as_user, permits):
    year, astana = permits["year"], permits["astana"]
    ministry = as_user("ministry")
    ministry.goto(f"/quotas?year={year}")
    ministry.locator("#set-region").select_option("71")
    ministry.locator("#set-category").select_option("3")
    ministry.locator("#set-allowed").fill("10")
    ministry.locator("#set-reason").fill("Order 14 of the ministry: Astana's quota lowered")
    ministry.locator("#form-set button").click()
    assert ministry.locator("#done").inner_text() == "The quota is set."
    assert counters(ministry, year, "71") == {"allowed": 10, "reserved": 0, "used": 0, "free": 10}

    pg = as_user("akimat")
    pg.goto("/permits/queue?lang=ru")  # the officer reads Russian from here on (kept in a cookie)
    for ref in astana[:10]:
        pg.goto(f"/permits/{ref}")
        pg.locator("#form-approve button").click()
        assert pg.locator("#done").inner_text() == RU("The application is approved.")
    pg.goto(f"/permits/{astana[10]}")
    pg.locator("#form-approve button").click()
    expected = say(Msg(N_("Not enough quota in %(region)s, %(category)s: %(left)s places left, "
                          "%(asked)s asked. Nothing was reserved."), region=region_name("71"),
                       category=ledger.category_word("3"), left="0", asked="1"), "ru")
    summary = pg.locator("#error-summary")
    assert expected in summary.inner_text()
    assert "0" in expected and "Not enough" not in expected  # said in Russian
    assert pg.locator("#state").inner_text() == RU("application checked")
    assert pg.locator("#done").count() == 0
    assert counters(pg, year, "71") == {"allowed": 10, "reserved": 10, "used": 0, "free": 0}


def test_the_queue_in_russian_fits_a_phone(as_user, permits):
    pg = as_user("akimat", viewport=PHONE)
    for url in ("/permits/queue?lang=ru", f"/permits/{permits['astana'][0]}", f"/quotas?year={permits['year']}",
                "/permits/queue?state=checked&region=71"):
        pg.goto(url)
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], url
    pg.goto("/permits/queue")
    assert pg.locator("h1").inner_text() == RU("Permit applications")
    assert pg.locator("#queue tbody tr").count() >= 1
    # on a phone the table is cards: each cell named by its column, in Russian
    cell = pg.locator("#queue tbody tr").first.locator("td").first
    assert cell.evaluate("el => getComputedStyle(el, '::before').content") == f'"{RU("Employer")}: "'
