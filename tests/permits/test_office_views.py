"""The akimat's queue, the permit page with its steps, the permits list and the quota page through
the app (no browser): what each role sees, every step's form and its banner, errors on the page in
the reader's language (never a 500), the quota chart and the ministry's forms, and a quota file
stored all or nothing."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import factories as f
from kosh.flows import permit_jobs
from kosh.permits import household, ledger, quota_import, service
from kosh.permits.models import QuotaCell
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth, clock
from kosh.platform.i18n import say, translations
from kosh.platform.security import Principal, Role
from kosh.platform.words import N_, Msg, region_name
from kosh.web.app import create_app

PASSWORD = "x" * 12
BIN = f.HOST_BIN  # a BIN whose checksum and entity type hold (an account may be made for it)
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party=BIN)
AKIMAT = Principal("akimat", Role.AKIMAT, user_id=3, regions=("75",))
SUBMITTED_ON = dt.date(2026, 3, 2)
TODAY = dt.date(2026, 3, 20)  # the pages' today: past the decision deadline (late) and the holds
RU = translations("ru").gettext
KK = translations("kk").gettext


def _worker(n: int, region: str = "75") -> dict:
    return {"surname": f"Karimov{chr(65 + n % 26)}{n}", "given_names": "Aziz",
            "birth_date": "1990-01-0" + str(1 + n % 9), "citizenship": "UZB",
            "document_number": f"FA{1000000 + n}", "issuing_state": "UZB",
            "work_region": region, "sex": "M"}


def _application(workers: list[dict], **over) -> ApplicationIn:
    body = {"channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-01", "term_months": 12, "starts_on": "2026-04-01",
            "staff_total": 100, "staff_citizens": 95, "workers": workers, **over}
    return ApplicationIn.model_validate(body)


def _apply(ctx, workers: list[dict], on: dt.date = SUBMITTED_ON) -> service.PermitView:
    with ctx.transaction() as s:
        return service.submit(s, ctx, EMPLOYER, _application(workers), on)


def _quota(ctx, region: str, places: int, category: str = "3") -> None:
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region=region, category=category, allowed=places)


def _cell(ctx, region: str, category: str = "3") -> tuple[int, int, int]:
    with ctx.transaction() as s:
        c = s.execute(select(QuotaCell).where(QuotaCell.region == region, QuotaCell.category == category)).scalar_one()
        return c.allowed, c.reserved, c.used


@pytest.fixture
def web(sqlite_ctx, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2026, 3, 20, 6, 0, tzinfo=dt.UTC))
    # The app's own daily job would run on the real day and lapse every hold of March 2026.
    monkeypatch.setattr(permit_jobs, "schedule", lambda ctx, runner: None)
    with sqlite_ctx.transaction() as s:
        for name, role, regions, party in [("ministry", "ministry", [], None), ("akimat", "akimat", ["75"], None),
                                           ("astana", "akimat", ["71"], None), ("employer", "employer", [], BIN)]:
            auth.create_user(s, sqlite_ctx, username=name, password=PASSWORD, role=role, regions=regions,
                             host_party=party)
        service.save_employer(s, sqlite_ctx, EMPLOYER, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                                  sector="construction"))
    with TestClient(create_app(sqlite_ctx)) as c:
        yield c


def sign_in(web, username: str) -> None:
    web.cookies.clear()
    r = web.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def step(web, ref: str, **data) -> httpx.Response:
    page = web.get(f"/permits/{ref}")
    return web.post(f"/permits/{ref}/step", data={"csrf_token": csrf(page.text), **data}, follow_redirects=False)


def test_the_queue_lists_the_akimats_applications_oldest_first_with_late_ones_marked(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 5)
    _quota(sqlite_ctx, "71", 5)
    first = _apply(sqlite_ctx, [_worker(1), _worker(2), _worker(3, "71")])
    second = _apply(sqlite_ctx, [_worker(4)], on=dt.date(2026, 3, 19))
    astana = _apply(sqlite_ctx, [_worker(5, "71")], on=dt.date(2026, 3, 3))
    sign_in(web, "akimat")
    r = web.get("/permits/queue")
    assert r.status_code == 200
    assert r.text.index(first.reference) < r.text.index(second.reference)
    assert astana.reference not in r.text  # Astana's akimat decides that one
    row = r.text[r.text.index(f'id="row-{first.reference}"'):r.text.index(f'id="row-{second.reference}"')]
    assert "Qurylys LLP" in row and "Almaty" in row and "(lead region)" in row and "Astana" in row
    assert "category 3 (specialists)" in row and "late" in row and "application checked" in row
    assert "late" not in r.text[r.text.index(f'id="row-{second.reference}"'):]
    assert "Awaiting: 2, of them late: 1" in r.text
    ru = web.get("/permits/queue?lang=ru")
    assert RU("application checked") in ru.text and RU("late") in ru.text and region_name("75").said_in("ru") in ru.text
    kk = web.get("/permits/queue?lang=kk")
    assert KK("Permit applications") in kk.text and KK("late") in kk.text
    only = web.get("/permits/queue", params={"state": "approved", "lang": "en"})
    assert first.reference not in only.text and "Nothing awaits a decision." in only.text
    bad = web.get("/permits/queue", params={"region": "71x", "lang": "en"})
    assert bad.status_code == 422 and "Choose a region from the list." in bad.text
    sign_in(web, "ministry")
    assert web.get("/permits/queue").status_code == 403
    listed = web.get("/permits")
    assert listed.status_code == 200 and all(p.reference in listed.text for p in (first, second, astana))
    assert astana.reference not in web.get("/permits", params={"region": "75"}).text


def test_approve_pay_and_issue_from_the_permit_page_with_banners(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 5)
    p = _apply(sqlite_ctx, [_worker(1)])
    sign_in(web, "akimat")
    page = web.get(f"/permits/{p.reference}")
    assert page.status_code == 200
    for words in ("Vacancy posting", "passed", "The vacancy was posted on", "Karimov", "Timeline",
                  "application submitted", "The hold lapsed", 'id="form-approve"', 'id="form-refuse"'):
        assert words in page.text, words
    assert re.search(r"<td data-label=\"Source\">[^—<]", page.text)  # each rule with its source
    done = step(web, p.reference, step="approve")
    assert done.status_code == 303 and done.headers["location"].startswith(f"/permits/{p.reference}?done=approve")
    shown = web.get(done.headers["location"])
    assert "The application is approved." in shown.text and "application approved" in shown.text
    with sqlite_ctx.transaction() as s:
        service.take_step(s, sqlite_ctx, EMPLOYER, p.reference, StepIn(step="pay_fee"), TODAY)
    issued = step(web, p.reference, step="issue")
    assert issued.status_code == 303
    assert "The permit is issued." in web.get(issued.headers["location"]).text
    assert _cell(sqlite_ctx, "75") == (5, 0, 1)


def test_refusal_needs_a_reason_from_the_list_and_shows_the_names_in_the_readers_language(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 5)
    p = _apply(sqlite_ctx, [_worker(1)])
    sign_in(web, "akimat")
    ru = web.get(f"/permits/{p.reference}?lang=ru")
    assert "Недостоверные или поддельные сведения" in ru.text  # the pack's name of the reason
    web.get("/permits/queue?lang=en")
    missing = step(web, p.reference, step="refuse")
    assert missing.status_code == 422 and "Choose a reason from the list" in missing.text
    assert 'aria-invalid="true" aria-describedby="e-f-refuse-reason_code"' in missing.text
    wrong = step(web, p.reference, step="refuse", reason_code="worker_left")
    assert wrong.status_code == 422
    done = step(web, p.reference, step="refuse", reason_code="false_information", note="forged diploma")
    assert done.status_code == 303
    page = web.get(done.headers["location"])
    assert "The application is refused." in page.text and "False or forged information" in page.text
    assert "forged diploma" in page.text and 'id="form-approve"' not in page.text
    again = step(web, p.reference, step="approve")  # a stale form: the stage no longer allows it
    assert again.status_code == 409
    assert "Cannot approve the application at the stage “application refused”." in again.text
    assert _cell(sqlite_ctx, "75") == (5, 0, 0)


def test_a_quota_with_no_room_left_is_said_on_the_page_not_a_500(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 1)
    first = _apply(sqlite_ctx, [_worker(1)])
    with sqlite_ctx.transaction() as s:  # the hold lapses and the place goes to a later application
        service.run_daily(s, sqlite_ctx, Principal("system", Role.ADMIN), dt.date(2026, 3, 19))
    _apply(sqlite_ctx, [_worker(2)], on=dt.date(2026, 3, 19))
    sign_in(web, "akimat")
    refused = step(web, first.reference, step="approve")
    assert refused.status_code == 409, refused.headers.get("location")
    assert "Not enough quota in Almaty, category 3 (specialists): 0 places left, 1 asked." in refused.text
    web.get("/permits/queue?lang=ru")  # the language is kept in a cookie
    ru = step(web, first.reference, step="approve")
    expected = say(Msg(N_("Not enough quota in %(region)s, %(category)s: %(left)s places left, "
                          "%(asked)s asked. Nothing was reserved."), region=region_name("75"),
                       category=ledger.category_word("3"), left="0", asked="1"), "ru")
    assert expected in ru.text
    assert _cell(sqlite_ctx, "75") == (1, 1, 0)


def test_steps_are_guarded_by_role_csrf_and_scope(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 2)
    p = _apply(sqlite_ctx, [_worker(1)])
    sign_in(web, "akimat")
    no_token = web.post(f"/permits/{p.reference}/step", data={"step": "approve"}, follow_redirects=False)
    assert no_token.status_code == 403
    assert step(web, p.reference, step="request_extension").status_code == 403  # the employer's step
    sign_in(web, "astana")
    assert web.get(f"/permits/{p.reference}").status_code == 404
    sign_in(web, "ministry")
    page = web.get(f"/permits/{p.reference}")
    assert page.status_code == 200 and 'id="form-approve"' not in page.text
    sign_in(web, "employer")
    assert web.get(f"/permits/{p.reference}").status_code == 403
    assert web.get("/quotas").status_code == 403


def test_the_quota_page_shows_utilisation_a_chart_and_the_akimat_only_its_regions(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 10)
    _quota(sqlite_ctx, "71", 4)
    _apply(sqlite_ctx, [_worker(1), _worker(2)])
    sign_in(web, "ministry")
    r = web.get("/quotas?year=2026")
    assert r.status_code == 200
    row = r.text[r.text.index('id="cell-75-3"'):]
    assert re.search(r'class="num allowed">10<.*class="num reserved">2<.*class="num used">0<.*class="num free">8<',
                     row[:1200], re.S), row[:1200]
    assert re.search(r'id="quota-totals".*class="num allowed">14<', r.text, re.S)
    assert '<svg' in r.text and 'role="img"' in r.text and '<title id="chart-title">' in r.text
    assert 'data-region="71"' in r.text and 'id="form-set"' in r.text and 'id="form-import"' in r.text
    assert RU("used") in web.get("/quotas?year=2026&lang=ru").text
    sign_in(web, "akimat")
    mine = web.get("/quotas?year=2026")
    assert 'id="cell-75-3"' in mine.text and 'id="cell-71-3"' not in mine.text and 'id="form-set"' not in mine.text
    page = web.get("/quotas")
    assert web.post("/quotas/set", data={"csrf_token": csrf(page.text), "quota_year": "2026", "region": "75",
                                         "category": "3", "allowed": "20"}).status_code == 403


def test_the_ministry_sets_and_moves_places_with_errors_on_the_form(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 3)
    _apply(sqlite_ctx, [_worker(1), _worker(2)])
    sign_in(web, "ministry")
    token = csrf(web.get("/quotas").text)
    done = web.post("/quotas/set", data={"csrf_token": token, "quota_year": "2026", "region": "71", "category": "3",
                                         "allowed": "7", "reason": "order 12"}, follow_redirects=False)
    assert done.status_code == 303 and "The quota is set." in web.get(done.headers["location"]).text
    assert _cell(sqlite_ctx, "71") == (7, 0, 0)
    low = web.post("/quotas/set", data={"csrf_token": token, "quota_year": "2026", "region": "75", "category": "3",
                                        "allowed": "1"})
    assert low.status_code == 422 and "2 places are already reserved or used" in low.text, (low.url, low.history)
    assert 'id="e-set-allowed"' in low.text
    moved = web.post("/quotas/move", data={"csrf_token": token, "quota_year": "2026", "category": "3",
                                           "from_region": "71", "to_region": "75", "places": "2",
                                           "reason": "Almaty builds"}, follow_redirects=False)
    assert moved.status_code == 303
    assert _cell(sqlite_ctx, "71") == (5, 0, 0) and _cell(sqlite_ctx, "75") == (5, 2, 0)
    no_reason = web.post("/quotas/move?lang=ru", data={"csrf_token": token, "quota_year": "2026", "category": "3",
                                                       "from_region": "71", "to_region": "75", "places": "1"})
    assert no_reason.status_code == 422 and 'id="e-move-reason"' in no_reason.text


def test_a_quota_file_is_stored_whole_or_refused_whole_with_its_rejects(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 3)
    _apply(sqlite_ctx, [_worker(1), _worker(2)])
    sign_in(web, "ministry")
    token = csrf(web.get("/quotas").text)
    bad = "year,region,category,allowed\n2026,71,3,40\n2026,99,3,5\n2026,75,3,1\n2026,71,3,9\n2026,11,cook,x\n"
    r = web.post("/quotas/import", data={"csrf_token": token}, files={"file": ("q.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and 'id="rejects"' in r.text and "Nothing was stored" in r.text
    rejects = r.text[r.text.index('id="rejects"'):]
    assert "99 is not a region code" in rejects and "cook is not a work-permit category" in rejects
    assert "line 2 too" in rejects and ">6<" in rejects
    with sqlite_ctx.transaction() as s:
        assert s.execute(select(QuotaCell).where(QuotaCell.region == "71")).first() is None
    # every row well formed, but Almaty's 2 places taken: the ledger refuses one row, nothing is stored
    below = "year,region,category,allowed\n2026,71,3,40\n2026,75,3,1\n"
    r = web.post("/quotas/import", data={"csrf_token": token}, files={"file": ("q.csv", below.encode(), "text/csv")})
    assert r.status_code == 422 and "already reserved or used" in r.text
    with sqlite_ctx.transaction() as s:
        assert s.execute(select(QuotaCell).where(QuotaCell.region == "71")).first() is None
    good = "\ufeffRegion,Year,Category,Allowed\n71,2026,3,40\n75,2026,3,12\n75,2026,household,5\n"
    r = web.post("/quotas/import", data={"csrf_token": token, "reason": "decree 5"},
                 files={"file": ("q.csv", good.encode(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/quotas?year=2026&done=import")
    assert _cell(sqlite_ctx, "71") == (40, 0, 0) and _cell(sqlite_ctx, "75") == (12, 2, 0)
    assert _cell(sqlite_ctx, "75", "household") == (5, 0, 0)
    empty = web.post("/quotas/import", data={"csrf_token": token}, files={"file": ("q.csv", b"", "text/csv")})
    assert empty.status_code == 422


def test_the_quota_file_parser_names_each_bad_line(sqlite_ctx):
    rows, rejects = quota_import.parse(sqlite_ctx, b"year,region,category,allowed\n2026,75,3,10\n\n2026,71,4\n")
    assert [r.region for r in rows] == ["75"] and [(r.row, str(r.reason)) for r in rejects] == [
        (4, "The row has 3 columns, not 4.")]
    _, header = quota_import.parse(sqlite_ctx, b"year;region;category;allowed\n2026;75;3;10\n")
    assert header[0].row == 1 and "year, region, category, allowed" in str(header[0].reason)
    _, binary = quota_import.parse(sqlite_ctx, b"\xff\xfe\x00y")
    assert "UTF-8" in str(binary[0].reason)


def test_an_extension_request_is_in_the_queue_and_extended_from_the_permit_page(web, sqlite_ctx):
    _quota(sqlite_ctx, "75", 2)
    p = _apply(sqlite_ctx, [_worker(1)])
    with sqlite_ctx.transaction() as s:
        service.take_step(s, sqlite_ctx, AKIMAT, p.reference, StepIn(step="approve"), TODAY)
        service.take_step(s, sqlite_ctx, EMPLOYER, p.reference, StepIn(step="pay_fee"), TODAY)
        service.take_step(s, sqlite_ctx, AKIMAT, p.reference, StepIn(step="issue"), TODAY)
    sign_in(web, "akimat")
    assert p.reference not in web.get("/permits/queue").text  # a valid permit nobody asked to extend
    with sqlite_ctx.transaction() as s:  # within the window: 60 to 30 days before it ends on 31 March 2027
        service.take_step(s, sqlite_ctx, EMPLOYER, p.reference, StepIn(step="request_extension"), dt.date(2027, 2, 15))
    queue = web.get("/permits/queue", params={"state": "extension"})
    assert p.reference in queue.text and "extension requested" in queue.text
    page = web.get(f"/permits/{p.reference}")
    assert 'id="form-extend"' in page.text and "extension asked for" in page.text
    assert f'href="/permits/{p.reference}/certificate"' in page.text
    done = step(web, p.reference, step="extend", months="6")
    assert done.status_code == 303
    shown = web.get(done.headers["location"])
    assert "The permit is extended." in shown.text and "extensions: 1" in shown.text
    assert p.reference not in web.get("/permits/queue").text


# --- a household worker's new employer, and the prepayments -----------------------------------------------

HOUSEHOLD_IIN = "900101300017"
NEW_IIN = "850315400005"
HOUSEHOLD = Principal("household", Role.EMPLOYER, user_id=4, host_party=HOUSEHOLD_IIN)


def _household_permit(ctx) -> str:
    """A household worker's permit issued in Almaty, its first month prepaid."""
    _quota(ctx, "75", 2, "household")
    with ctx.transaction() as s:
        service.save_employer(s, ctx, HOUSEHOLD, EmployerIn(employer_name="Aigerim Sarsenova", region="75",
                                                            sector="household"))
        ref = service.submit(s, ctx, HOUSEHOLD, _application(
            [_worker(1)], channel="household_worker", category="", vacancy_code="", vacancy_posted_on=None,
            term_months=6, starts_on="2026-03-02", staff_total=0, staff_citizens=0), SUBMITTED_ON).reference
    with ctx.transaction() as s:
        service.take_step(s, ctx, AKIMAT, ref, StepIn(step="approve"), TODAY)
        service.take_step(s, ctx, HOUSEHOLD, ref, StepIn(step="pay_fee"), TODAY)
        service.take_step(s, ctx, AKIMAT, ref, StepIn(step="issue"), TODAY)
        household.record_payments(s, ctx, Principal("system", Role.ADMIN), [
            household.PaymentIn(ref, "2026-03", 17300, dt.date(2026, 3, 19), "PAY-1")])
    return ref


def change_employer(web, ref: str, **data) -> httpx.Response:
    page = web.get(f"/permits/{ref}")
    return web.post(f"/permits/{ref}/employer-change", data={"csrf_token": csrf(page.text), **data},
                    follow_redirects=False)


def test_the_akimat_records_a_household_workers_new_employer_and_sees_the_prepayments(web, sqlite_ctx):
    ref = _household_permit(sqlite_ctx)
    sign_in(web, "akimat")
    page = web.get(f"/permits/{ref}")
    assert page.status_code == 200 and 'id="form-change_employer"' in page.text
    assert "Record a change of employer" in page.text and "New employer&#39;s IIN" in page.text
    payments = page.text[page.text.index('id="payments"'):]
    assert re.search(r'<time datetime="2026-03">March 2026</time>.*17,300.*Mar 19, 2026', payments, re.S), payments
    due = page.text[page.text.index('id="next-payment"'):]
    assert re.search(r'<time datetime="2026-04">April 2026</time>, 17,300 KZT', due[:300]), due[:300]
    done = change_employer(web, ref, iin="8503 1540 0005", name="Dana Omarova")
    assert done.status_code == 303
    assert done.headers["location"] == f"/permits/{ref}?done=change_employer#done"
    shown = web.get(done.headers["location"])
    assert "The change of employer is recorded." in shown.text
    summary = shown.text[shown.text.index('id="summary"'):]
    assert "Dana Omarova" in summary[:400] and "Aigerim Sarsenova" not in summary
    timeline = shown.text[shown.text.index('id="timeline"'):]
    assert "employer changed" in timeline
    with sqlite_ctx.transaction() as s:  # the earlier employer no longer reads the permit
        assert service.list_permits(s, sqlite_ctx, HOUSEHOLD).total == 0


def test_a_wrong_change_of_employer_is_said_beside_its_field_never_a_500(web, sqlite_ctx):
    ref = _household_permit(sqlite_ctx)
    sign_in(web, "akimat")
    bad = change_employer(web, ref, iin="85031540000", name="Dana Omarova")
    assert bad.status_code == 422
    assert "Enter the new employer&#39;s IIN (12 digits)" in bad.text
    assert '<a href="#f-employer-iin">New employer&#39;s IIN</a>' in bad.text  # the summary names the field
    assert 'aria-invalid="true" aria-describedby="e-f-employer-new_employer"' in bad.text
    assert 'value="85031540000"' in bad.text  # what was typed stays to correct it
    nameless = change_employer(web, ref, iin=NEW_IIN, name=" ")
    assert nameless.status_code == 422 and "Enter the new employer&#39;s name" in nameless.text
    assert '<a href="#f-employer-name">Name</a>' in nameless.text
    same = change_employer(web, ref, iin=HOUSEHOLD_IIN, name="Aigerim Sarsenova")
    assert same.status_code == 422 and "This is the permit&#39;s employer already" in same.text
    assert 'aria-describedby="e-f-employer-new_employer"' in same.text
    page = web.get(f"/permits/{ref}")
    token = csrf(page.text)
    assert step(web, ref, step="revoke", reason_code="false_information").status_code == 303
    ended = web.post(f"/permits/{ref}/employer-change", data={"csrf_token": token, "iin": NEW_IIN,
                                                              "name": "Dana Omarova"}, follow_redirects=False)
    assert ended.status_code == 409
    assert "Only a household worker&#39;s permit in force changes employer." in ended.text
    assert 'id="form-change_employer"' not in ended.text  # a revoked permit has no form for it
    with sqlite_ctx.transaction() as s:
        assert service.get_permit(s, sqlite_ctx, AKIMAT, ref, TODAY).permit.employer_name == "Aigerim Sarsenova"


def test_the_change_of_employer_is_the_akimats_own_on_household_permits_only(web, sqlite_ctx):
    ref = _household_permit(sqlite_ctx)
    _quota(sqlite_ctx, "75", 2)
    other = _apply(sqlite_ctx, [_worker(2)])
    sign_in(web, "akimat")
    assert 'id="form-change_employer"' not in web.get(f"/permits/{other.reference}").text
    assert 'id="payments"' not in web.get(f"/permits/{other.reference}").text
    not_household = change_employer(web, other.reference, iin=NEW_IIN, name="Dana Omarova")
    assert not_household.status_code == 409
    no_token = web.post(f"/permits/{ref}/employer-change", data={"iin": NEW_IIN, "name": "Dana Omarova"},
                        follow_redirects=False)
    assert no_token.status_code == 403
    sign_in(web, "astana")  # no worker in its region: the permit is not among those it sees
    token = csrf(web.get("/permits/queue").text)
    assert web.post(f"/permits/{ref}/employer-change", data={"csrf_token": token, "iin": NEW_IIN,
                                                             "name": "Dana Omarova"}).status_code == 404
    sign_in(web, "ministry")
    page = web.get(f"/permits/{ref}")
    assert page.status_code == 200 and 'id="form-change_employer"' not in page.text and 'id="payments"' in page.text
    assert web.post(f"/permits/{ref}/employer-change", data={"csrf_token": csrf(page.text), "iin": NEW_IIN,
                                                             "name": "Dana Omarova"}).status_code == 403


def test_the_change_of_employer_and_the_prepayments_in_russian(web, sqlite_ctx):
    ref = _household_permit(sqlite_ctx)
    sign_in(web, "akimat")
    web.get("/permits/queue?lang=ru")  # the language is kept in a cookie
    page = web.get(f"/permits/{ref}")
    for words in ("Record a change of employer", "New employer's IIN", "Record the change of employer",
                  "Monthly prepayments", "Next payment", "Month", "Amount (KZT)", "Paid on"):
        assert RU(words) != words and RU(words) in page.text, words
    assert "март 2026" in page.text.lower() and "17\xa0300" in page.text
    bad = change_employer(web, ref, iin="12345", name="")
    assert bad.status_code == 422
    for words in ("Enter the new employer's IIN (12 digits)", "Enter the new employer's name"):
        assert RU(words) != words and RU(words) in bad.text, words
    done = change_employer(web, ref, iin=NEW_IIN, name="Дана Омарова")
    shown = web.get(done.headers["location"])
    assert RU("The change of employer is recorded.") in shown.text and RU("employer changed") in shown.text
    kk = web.get(f"/permits/{ref}?lang=kk")
    assert KK("Record a change of employer") != "Record a change of employer"
    assert KK("Record a change of employer") in kk.text and KK("Monthly prepayments") in kk.text
