"""The employer's workspace through the app (no browser): the start page with the pack's rules,
the details, the application with its check-your-answers page (every check shown, no submit
while one fails), the confirmation, the permit's page with the fee and the extension, and the
reader's language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import factories as f
from kosh.permits import ledger, service
from kosh.permits.models import WorkPermit
from kosh.permits.schemas import StepIn
from kosh.platform import auth, clock, i18n
from kosh.platform.security import Principal, Role
from kosh.web.app import create_app

PASSWORD = "x" * 12
BIN = f.HOST_BIN
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, regions=("75",))
EMPLOYER = Principal("employer", Role.EMPLOYER, host_party=BIN)


def today(ctx) -> dt.date:
    return clock.utcnow().astimezone(ctx.pack.zone).date()


@pytest.fixture
def web(ctx):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="employer", password=PASSWORD, role="employer", host_party=BIN)
        auth.create_user(s, ctx, username="officer", password=PASSWORD, role="officer", regions=["75"])
        for year in (today(ctx).year, today(ctx).year + 1):
            ledger.set_quota(s, ctx, MINISTRY, year=year, region="75", category="3", allowed=5)
    with TestClient(create_app(ctx)) as c:
        yield c


def sign_in(web, username: str = "employer") -> None:
    r = web.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def register(web) -> None:
    form = web.get("/employer/details")
    r = web.post("/employer/details", data={"employer_name": "Qurylys LLP", "region": "75", "sector": "construction",
                                            "csrf_token": hidden(form.text, "csrf_token")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/employer?done=details"


def answers(ctx, web, posted_days_ago: int = 20, **over) -> dict[str, str]:
    form = web.get("/employer/apply")
    assert form.status_code == 200
    day = today(ctx)
    return {"csrf_token": hidden(form.text, "csrf_token"), "workers_count": "1", "channel": "employer_quota",
            "category": "3", "occupation": "7112", "vacancy_code": "V-77",
            "vacancy_posted_on": (day - dt.timedelta(days=posted_days_ago)).isoformat(), "term_months": "12",
            "starts_on": (day + dt.timedelta(days=10)).isoformat(), "staff_total": "100", "staff_citizens": "95",
            "w0-surname": "Каримов", "w0-given_names": "Азиз", "w0-sex": "M", "w0-birth_date": "1990-01-02",
            "w0-citizenship": "UZB", "w0-document_number": "FA1234567", "w0-work_region": "75", **over}


def permits(ctx) -> list[WorkPermit]:
    with ctx.transaction() as s:
        return list(s.execute(sa.select(WorkPermit).order_by(WorkPermit.id)).scalars())


def test_start_page_gives_the_rules_from_the_pack_to_anyone(web, ctx):
    r = web.get("/employer")
    assert r.status_code == 200
    posting = ctx.pack.permits.vacancy_posting_on(today(ctx))
    assert posting is not None
    assert f"Post the vacancy on {posting.where} at least {posting.wait_days} calendar days" in r.text
    assert "at least 70 % of your staff in categories 1, 2" in r.text
    assert "at least 90 % of your staff in categories 3, 4" in r.text
    assert f"within {ctx.pack.permits.fee_deadline.working_days} working days of approval" in r.text
    assert 'href="/login"' in r.text and "Your permits" not in r.text
    ru = web.get("/employer?lang=ru")
    assert i18n.translations("ru").gettext("The rules") in ru.text and "The rules" not in ru.text


def test_the_employer_registers_its_details_first(web, ctx):
    sign_in(web)
    start = web.get("/employer")
    assert 'id="no-details"' in start.text and 'href="/employer/details"' in start.text
    assert web.get("/employer/apply", follow_redirects=False).headers["location"] == "/employer/details"
    form = web.get("/employer/details")
    assert '<option value="75">Almaty</option>' in form.text and "construction" in form.text
    bad = web.post("/employer/details", data={"employer_name": "", "region": "", "sector": "other",
                                              "csrf_token": hidden(form.text, "csrf_token")})
    assert bad.status_code == 422 and "error-summary" in bad.text and "Employer&#39;s name" in bad.text
    register(web)
    page = web.get("/employer?done=details")
    assert "Your details are saved." in page.text and "Qurylys LLP" in page.text and "Almaty" in page.text
    assert "construction" in page.text and 'href="/employer/apply"' in page.text


def test_post_without_the_csrf_token_is_refused(web):
    sign_in(web)
    r = web.post("/employer/details", data={"employer_name": "X", "region": "75"})
    assert r.status_code == 403


def test_another_worker_is_added_without_javascript(web, ctx):
    sign_in(web)
    register(web)
    data = answers(ctx, web)
    r = web.post("/employer/apply", data={**data, "step": "add"})
    assert r.status_code == 200
    assert 'name="workers_count" value="2"' in r.text and 'id="f-w1-surname"' in r.text
    assert 'value="Каримов"' in r.text  # the first worker's answers are kept
    assert 'id="remove-worker"' in r.text


def test_a_failing_check_is_shown_with_its_rule_and_no_submit_button(web, ctx):
    sign_in(web)
    register(web)
    data = answers(ctx, web, posted_days_ago=5)
    r = web.post("/employer/apply", data={**data, "step": "check"})
    assert r.status_code == 200
    assert "The application does not pass every check" in r.text and 'id="failed-vacancy_posting"' in r.text
    assert "5 days before the application; at least 15 days are required." in r.text
    assert "Vacancy posting" in r.text and 'id="submit"' not in r.text
    assert "Domain notes §2(a): labour-market test" in r.text  # the rule's source, beside it
    earliest = i18n.format_day(today(ctx) + dt.timedelta(days=10), "en")
    assert f"You can apply from {earliest}." in r.text  # posted 5 days ago, 15 days needed
    # Submitting all the same (a crafted request) files nothing.
    again = web.post("/employer/apply", data={**data, "step": "submit"})
    assert again.status_code == 200 and 'id="submit"' not in again.text and permits(ctx) == []
    # Back to the form at the date, with every answer kept.
    back = web.post("/employer/apply", data={**data, "change": "vacancy_posted_on"})
    assert 'id="f-vacancy_posted_on"' in back.text and "autofocus" in back.text
    assert 'value="FA1234567"' in back.text


def test_submit_gives_a_reference_and_a_second_submission_is_the_same_application(web, ctx):
    sign_in(web)
    register(web)
    data = answers(ctx, web)
    check = web.post("/employer/apply", data={**data, "step": "check"})
    assert "Check your answers" in check.text and 'id="submit"' in check.text and "Uzbekistan" in check.text
    assert 'data-check="quota"' in check.text and permits(ctx) == []
    done = web.post("/employer/apply", data={**data, "step": "submit"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/confirmation")
    (row,) = permits(ctx)
    assert re.fullmatch(r"WP-[0-9A-Z]{4}-[0-9A-Z]{4}", row.reference)
    page = web.get(done.headers["location"])
    assert row.reference in page.text and "Application submitted" in page.text and "What happens next" in page.text
    twice = web.post("/employer/apply", data={**data, "step": "submit"}, follow_redirects=False)
    assert twice.headers["location"] == done.headers["location"] and len(permits(ctx)) == 1
    start = web.get("/employer")
    assert row.reference in start.text and "application checked" in start.text
    assert f"The akimat decides on application {row.reference} by" in start.text


def test_field_errors_name_the_worker_fields(web, ctx):
    sign_in(web)
    register(web)
    data = answers(ctx, web, **{"w0-surname": "", "occupation": "71"})
    r = web.post("/employer/apply", data={**data, "step": "check"})
    assert r.status_code == 422 and 'href="#f-w0-surname"' in r.text and 'href="#f-occupation"' in r.text


def test_the_permit_page_offers_the_fee_then_links_the_certificate(web, ctx):
    sign_in(web)
    register(web)
    data = answers(ctx, web)
    resp = web.post("/employer/apply", data={**data, "step": "submit"}, follow_redirects=False)
    assert "location" in resp.headers, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.text))[-1500:]
    location = resp.headers["location"]
    reference = location.split("/")[3]
    page = web.get(f"/employer/permits/{reference}")
    assert "application checked" in page.text and 'id="pay-fee"' not in page.text
    assert "application submitted" in page.text and "employer" in page.text  # the trail: step and role words
    with ctx.transaction() as s:
        service.take_step(s, ctx, AKIMAT, reference, StepIn(step="approve"), today(ctx))
    page = web.get(f"/employer/permits/{reference}")
    assert 'id="pay-fee"' in page.text and f"Pay the fee for permit {reference} by" in page.text
    future = (today(ctx) + dt.timedelta(days=3)).isoformat()
    bad = web.post(f"/employer/permits/{reference}/steps", data={"step": "pay_fee", "paid_on": future,
                                                                 "csrf_token": hidden(page.text, "csrf_token")})
    assert bad.status_code == 422 and "must not be in the future" in bad.text
    ok = web.post(f"/employer/permits/{reference}/steps", data={"step": "pay_fee", "paid_on": today(ctx).isoformat(),
                                                                "csrf_token": hidden(page.text, "csrf_token")},
                  follow_redirects=False)
    assert ok.status_code == 303
    with ctx.transaction() as s:
        service.take_step(s, ctx, AKIMAT, reference, StepIn(step="issue"), today(ctx))
    page = web.get(f"/employer/permits/{reference}?done=pay_fee")
    assert f'href="/permits/{reference}/certificate"' in page.text and "permit issued" in page.text
    assert "You can ask to extend the permit from" in page.text  # the window opens later


def test_pages_speak_russian_and_kazakh(web, ctx):
    sign_in(web)
    register(web)
    for lang in ("ru", "kk"):
        t = i18n.translations(lang).gettext
        r = web.get(f"/employer?lang={lang}")
        assert t("Work permits for foreign workers") in r.text and t("Your details") in r.text
        form = web.get(f"/employer/apply?lang={lang}")
        assert t("Add another worker") in form.text and t("Apply for a work permit") in form.text


def test_another_employers_permit_is_not_found_and_officers_cannot_apply(web, ctx):
    sign_in(web)
    register(web)
    assert web.get("/employer/permits/WP-0000-0000").status_code == 404
    web.post("/logout", data={"csrf_token": hidden(web.get("/employer").text, "csrf_token")})
    sign_in(web, "officer")
    assert web.get("/employer/apply").status_code == 403


def test_the_employer_asks_to_extend_a_valid_permit_within_the_window(web, ctx, monkeypatch):
    sign_in(web)
    register(web)
    data = answers(ctx, web)
    location = web.post("/employer/apply", data={**data, "step": "submit"}, follow_redirects=False).headers["location"]
    reference = location.split("/")[3]
    with ctx.transaction() as s:
        service.take_step(s, ctx, AKIMAT, reference, StepIn(step="approve"), today(ctx))
        service.take_step(s, ctx, EMPLOYER, reference, StepIn(step="pay_fee", paid_on=today(ctx)), today(ctx))
        issued = service.take_step(s, ctx, AKIMAT, reference, StepIn(step="issue"), today(ctx))
    assert issued.valid_to is not None
    # 45 days before the permit expires: inside the window (60 to 30 days before)
    later = dt.datetime.combine(issued.valid_to - dt.timedelta(days=45), dt.time(12), tzinfo=ctx.pack.zone)
    monkeypatch.setattr("kosh.platform.clock.utcnow", lambda: later)
    page = web.get(f"/employer/permits/{reference}")
    assert "Ask to extend the permit" in page.text and "can be filed until" in page.text  # the reminder
    r = web.post(f"/employer/permits/{reference}/steps", data={"step": "request_extension", "note": "Same post",
                                                               "csrf_token": hidden(page.text, "csrf_token")},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=request_extension")
    page = web.get(r.headers["location"])
    assert "Your request to extend the permit is sent to the akimat." in page.text
    assert "You asked to extend the permit; the akimat decides." in page.text
    assert "extension asked for" in page.text and "Same post" in page.text  # the trail's step words


# -- a returned application corrected and filed again; an EAEU contract ended early ---------------------

def _filed(ctx, web, **over) -> str:
    data = answers(ctx, web, **over)
    location = web.post("/employer/apply", data={**data, "step": "submit"}, follow_redirects=False).headers["location"]
    return location.split("/")[3]


def _returned(ctx, reference: str, note: str = "Wrong occupation code") -> str:
    reason = ctx.pack.permits.reasons_for("return")[0]
    with ctx.transaction() as s:
        service.take_step(s, ctx, AKIMAT, reference, StepIn(step="return", reason_code=reason.code, note=note),
                          today(ctx))
    return reason.name


def test_a_returned_application_is_corrected_and_filed_again_under_its_reference(web, ctx):
    sign_in(web)
    register(web)
    reference = _filed(ctx, web)
    assert 'id="correct"' not in web.get(f"/employer/permits/{reference}").text
    assert web.get(f"/employer/permits/{reference}/correct", follow_redirects=False).headers["location"] == (
        f"/employer/permits/{reference}")  # only a returned application is corrected
    reason = _returned(ctx, reference)
    page = web.get(f"/employer/permits/{reference}")
    assert 'id="returned"' in page.text and 'id="correct"' in page.text
    assert reason in page.text and "Wrong occupation code" in page.text  # the akimat's reason and note
    assert f'href="/employer/permits/{reference}/correct"' in page.text

    form = web.get(f"/employer/permits/{reference}/correct")
    assert form.status_code == 200 and f'action="/employer/permits/{reference}/correct"' in form.text
    for shown in ('value="Каримов"', 'value="FA1234567"', 'value="7112"', 'value="V-77"', 'value="95"'):
        assert shown in form.text  # prefilled as filed
    assert 'name="channel" value="employer_quota"' in form.text and 'id="f-channel-household_worker"' not in form.text
    for lang in ("ru", "kk"):
        words = i18n.translations(lang).gettext
        shown = web.get(f"/employer/permits/{reference}/correct?lang={lang}").text
        assert words("Correct the application %(ref)s") % {"ref": reference} in shown
        assert words("Correct and file again") in web.get(f"/employer/permits/{reference}?lang={lang}").text
    web.get("/employer?lang=en")

    data = {**answers(ctx, web, occupation="7111"), "csrf_token": hidden(form.text, "csrf_token")}
    added = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "add"})
    assert 'name="workers_count" value="2"' in added.text
    assert f'action="/employer/permits/{reference}/correct"' in added.text
    check = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "check"})
    assert check.status_code == 200 and 'id="submit"' in check.text and "File the application again" in check.text
    assert f'formaction="/employer/permits/{reference}/correct#f-occupation"' in check.text
    done = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "submit"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/employer/permits/{reference}/confirmation?done=resubmit"
    confirmation = web.get(done.headers["location"])
    assert "Application filed again" in confirmation.text and reference in confirmation.text
    (row,) = permits(ctx)
    assert (row.reference, row.state, row.occupation, row.reason_code) == (reference, "checked", "7111", "")
    # sent twice: the same application, nothing filed again
    twice = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "submit"}, follow_redirects=False)
    assert twice.headers["location"] == done.headers["location"] and len(permits(ctx)) == 1
    trail = web.get(f"/employer/permits/{reference}")
    assert trail.text.count("application submitted") == 2 and 'id="correct"' not in trail.text


def test_a_correction_that_fails_a_check_is_not_filed(web, ctx, monkeypatch):
    sign_in(web)
    register(web)
    reference = _filed(ctx, web)
    _returned(ctx, reference)
    form = web.get(f"/employer/permits/{reference}/correct")
    data = {**answers(ctx, web, posted_days_ago=5), "csrf_token": hidden(form.text, "csrf_token")}
    check = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "check"})
    assert 'id="failed-vacancy_posting"' in check.text and 'id="submit"' not in check.text
    crafted = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "submit"})
    assert crafted.status_code == 200 and 'id="submit"' not in crafted.text
    assert [r.state for r in permits(ctx)] == ["returned"]
    # the checks pass on the page but fail when filed (a place taken meanwhile): the checks as they are then
    from kosh.permits import employer_views

    real, calls = employer_views._checks, []

    def first_passes(*args):
        calls.append(1)
        return [] if len(calls) == 1 else real(*args)

    monkeypatch.setattr(employer_views, "_checks", first_passes)
    failed = web.post(f"/employer/permits/{reference}/correct", data={**data, "step": "submit"})
    assert failed.status_code == 422 and 'id="body-error"' in failed.text
    assert "The application does not pass every check; nothing was submitted." in failed.text
    assert 'id="failed-vacancy_posting"' in failed.text and [r.state for r in permits(ctx)] == ["returned"]


def test_an_eaeu_contract_that_ended_early_gives_the_last_day_of_lawful_stay(web, ctx, monkeypatch):
    sign_in(web)
    register(web)
    day = today(ctx)
    reference = _filed(ctx, web, channel="eaeu_contract", category="", vacancy_code="", vacancy_posted_on="",
                       staff_total="", staff_citizens="", starts_on=day.isoformat(), **{"w0-citizenship": "KGZ"})
    page = web.get(f"/employer/permits/{reference}")
    assert 'id="end-contract"' in page.text and "The contract ended early" in page.text
    later = dt.datetime.combine(day + dt.timedelta(days=40), dt.time(12), tzinfo=ctx.pack.zone)
    monkeypatch.setattr("kosh.platform.clock.utcnow", lambda: later)
    token = hidden(page.text, "csrf_token")
    blank = web.post(f"/employer/permits/{reference}/contract-end", data={"ended_on": "", "csrf_token": token})
    assert blank.status_code == 422 and 'href="#f-ended_on"' in blank.text
    future = (day + dt.timedelta(days=41)).isoformat()
    bad = web.post(f"/employer/permits/{reference}/contract-end", data={"ended_on": future, "csrf_token": token})
    assert bad.status_code == 422 and "Last day of the contract" in bad.text and "Enter a day from" in bad.text
    ended = day + dt.timedelta(days=30)
    r = web.post(f"/employer/permits/{reference}/contract-end", data={"ended_on": ended.isoformat(),
                                                                      "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/employer/permits/{reference}?done=end_contract"
    after = web.get(r.headers["location"])
    until = i18n.format_day(ended + dt.timedelta(days=15), "en")
    assert "The end of the contract is recorded." in after.text and 'id="end-contract"' not in after.text
    assert f"The worker may stay 15 more days to find new work: the stay is lawful until {until} inclusive." in (
        after.text)
    assert "employment contract ended" in after.text  # the trail
    again = web.post(f"/employer/permits/{reference}/contract-end", data={"ended_on": ended.isoformat(),
                                                                          "csrf_token": token})
    assert again.status_code == 409  # ended already
    assert web.post("/employer/permits/WP-0000-0000/contract-end",
                    data={"ended_on": ended.isoformat(), "csrf_token": token}).status_code == 404
    ru = web.get(f"/employer/permits/{reference}?lang=ru")
    assert i18n.translations("ru").gettext("The employment contract ended on %(day)s.").split("%")[0] in ru.text
