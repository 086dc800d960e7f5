"""A worker's permits shown to people: on the officer's person page the lawful basis of stay names
the work permit and a section lists the person's permits (only for an officer who may read the
person); on the migrant's own status page (in Russian and Uzbek) each permit with its state,
regions, term, employer and, for a household worker, the next prepayment or why it is suspended.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

import factories as f
from kosh.flows import selfservice as flow
from kosh.people import service as people
from kosh.permits import household, ledger
from kosh.permits import service as permits
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn
from kosh.platform import auth, i18n
from kosh.platform.security import Principal, Role, system_principal
from kosh.stay.service import local_today
from web.conftest import token_for

BIN = "180240000012"
IIN = "900101300017"
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
EMPLOYER = Principal("employer", Role.EMPLOYER, user_id=2, host_party=BIN)
HOUSEHOLD = Principal("household", Role.EMPLOYER, user_id=3, host_party=IIN)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=4, regions=("75",))
SYSTEM = system_principal("daily")
APPLIED = dt.date(2026, 3, 2)
UZB = {"citizenship": "UZB", "document_number": "FA1234567", "birth_date": "1990-05-17"}
KARIM = {"citizenship": "UZB", "document_number": "FA7654321", "birth_date": "1991-02-03"}


def _worker(details: dict, surname: str) -> dict:
    return {"surname": surname, "given_names": "Shukhrat", "birth_date": details["birth_date"],
            "citizenship": details["citizenship"], "document_number": details["document_number"],
            "issuing_state": details["citizenship"], "work_region": "75", "sex": "M"}


def _step(ctx, who: Principal, reference: str, step: str) -> None:
    with ctx.transaction() as s:
        permits.take_step(s, ctx, who, reference, StepIn(step=step), APPLIED)


@pytest.fixture
def worker(client, users, ctx) -> dict[str, str]:
    """An Uzbek who entered on 2 March 2026 and was notified in Almaty, with an employer's permit
    (10 Mar 2026 – 9 Mar 2027) and a household permit (2 Mar – 1 Jun 2026) suspended on 3 April
    for the unpaid April prepayment; and another worker whose permit he must not see."""
    admin = token_for(client, "admin")
    pid = client.post("/api/v1/border-events/bulk", headers=admin, json={"events": [
        f.border_event(occurred_at="2026-03-02T09:00:00+05:00")]}).json()["person_ids"][0]
    r = client.post("/api/v1/notifications", headers=admin, json=f.notification(arrival_date="2026-03-02"))
    assert r.status_code == 201, r.text
    with ctx.transaction() as s:
        for category in ("3", "household"):
            ledger.set_quota(s, ctx, MINISTRY, year=2026, region="75", category=category, allowed=5)
        permits.save_employer(s, ctx, EMPLOYER, EmployerIn(employer_name="Qurylys LLP", region="75",
                                                           sector="construction"))
        permits.save_employer(s, ctx, HOUSEHOLD, EmployerIn(employer_name="Aigerim Sarsenova", region="75",
                                                            sector="household"))
        quota = permits.submit(s, ctx, EMPLOYER, ApplicationIn.model_validate({
            "channel": "employer_quota", "category": "3", "occupation": "7112", "vacancy_code": "V-1",
            "vacancy_posted_on": "2026-02-01", "term_months": 12, "starts_on": "2026-03-10", "staff_total": 100,
            "staff_citizens": 95, "workers": [_worker(UZB, "Abdullayev"), _worker(KARIM, "Karimov")]}), APPLIED)
        home = permits.submit(s, ctx, HOUSEHOLD, ApplicationIn.model_validate({
            "channel": "household_worker", "category": "", "occupation": "9111", "term_months": 3,
            "starts_on": "2026-03-02", "staff_total": 0, "staff_citizens": 0,
            "workers": [_worker(UZB, "Abdullayev")]}), APPLIED)
    for ref, who in ((quota.reference, EMPLOYER), (home.reference, HOUSEHOLD)):
        _step(ctx, AKIMAT, ref, "approve")
        _step(ctx, who, ref, "pay_fee")
        _step(ctx, AKIMAT, ref, "issue")
    with ctx.transaction() as s:
        household.record_payments(s, ctx, SYSTEM, [household.PaymentIn(home.reference, "2026-03", 17300, APPLIED,
                                                                       "PAY-1")])
        permits.run_daily(s, ctx, SYSTEM, dt.date(2026, 4, 3))
        karim = people.find_holder(s, ctx, "UZB", KARIM["document_number"], dt.date(1991, 2, 3))
    return {"person": pid, "quota": quota.reference, "home": home.reference, "karim": karim or ""}


def _due(ctx, lang: str) -> str:
    amount = household.monthly_amount(ctx, local_today(ctx)) or 0
    return f"{flow.month_words('2026-04', lang)}: {flow.kzt(amount, lang)}"


def _sign_in(client, users, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": users}, follow_redirects=False)
    assert r.status_code == 303
    form = client.get("/purpose")  # a person's record is opened with a stated purpose
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/purpose", data={"purpose": "Case 9/2026: work permit check", "csrf_token": token})


def test_the_person_page_names_the_work_permit_as_the_basis_and_lists_the_permits(client, users, worker, ctx):
    _sign_in(client, users, "almaty")
    r = client.get(f"/persons/{worker['person']}", params={"on": "2026-03-20", "lang": "en"})
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    basis = page.split('id="basis"')[1].split("</p>")[0]
    term = f"{i18n.format_day(dt.date(2026, 3, 10), 'en')} – {i18n.format_day(dt.date(2027, 3, 9), 'en')}"
    assert f"Work permit {worker['quota']}, valid {term}" in basis
    timeline = page.split('id="tl-h"')[1].split("</section>")[0]  # the timeline names the permits too
    assert f"Work permit {worker['quota']}, valid {term}" in timeline and f"Work permit {worker['home']}" in timeline
    assert "Residence permit (trp)" not in page
    section = page.split('id="work-permits"')[1].split("</section>")[0]
    quota = section.split(f'data-permit="{worker["quota"]}"')[1].split("</tr>")[0]
    assert "employer's permit within the quota" in quota and "permit issued" in quota
    assert "Qurylys LLP" in quota and "Almaty" in quota and term in quota
    home = section.split(f'data-permit="{worker["home"]}"')[1].split("</tr>")[0]
    assert "household worker's permit" in home and "permit suspended" in home and "Aigerim Sarsenova" in home
    assert _due(ctx, "en") in home


def test_the_person_page_in_russian(client, users, worker):
    _sign_in(client, users, "almaty")
    page = html.unescape(client.get(f"/persons/{worker['person']}", params={"on": "2026-03-20", "lang": "ru"}).text)
    assert f"Разрешение на работу {worker['quota']}" in page.split('id="basis"')[1].split("</p>")[0]
    section = page.split('id="work-permits"')[1].split("</section>")[0]
    assert "Разрешения на работу" in page and "Алматы" in section


def test_the_permits_stay_with_the_person_out_of_an_officers_scope(client, users, worker, ctx):
    with ctx.transaction() as s:  # the worker has no record in Astana
        auth.create_user(s, ctx, username="astana", password=users, role="officer", regions=["71"])
    _sign_in(client, users, "astana")
    r = client.get(f"/persons/{worker['person']}", params={"lang": "en"})
    assert r.status_code == 404 and worker["quota"] not in r.text


def _status_page(client, lang: str, details: dict) -> str:
    form = client.get(f"/status/check?lang={lang}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post(f"/status/check?lang={lang}", data={"csrf_token": token, **details})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_the_status_page_shows_the_workers_own_permits(client, worker, ctx, lang):
    page = _status_page(client, lang, UZB)
    section = page.split('id="permits"')[1].split("</section>")[0]
    _ = i18n.translations(lang).gettext
    assert _("Your work permits") != "Your work permits"
    quota = section.split(f'data-permit="{worker["quota"]}"')[1].split('class="panel permit"')[0]
    assert _("employer's permit within the quota") in quota and _("permit issued") in quota
    assert "Qurylys LLP" in quota
    assert f"{i18n.format_day(dt.date(2026, 3, 10), lang)} – {i18n.format_day(dt.date(2027, 3, 9), lang)}" in quota
    assert ctx.pack.region_for_kato("750000000").name(lang) in quota
    home = section.split(f'data-permit="{worker["home"]}"')[1]
    assert _("household worker's permit") in home and _("permit suspended") in home
    assert _due(ctx, lang) in home
    amount = flow.kzt(household.monthly_amount(ctx, local_today(ctx)) or 0, lang)
    unpaid = _("Your permit is suspended because the prepayment for %(month)s is unpaid. Pay %(amount)s: the "
               "permit is restored once the payment is recorded.") % {
        "month": flow.month_words("2026-04", lang), "amount": amount}
    assert unpaid in home
    # The worker's own permits only: not the other worker, not the host's address.
    assert "Karimov" not in page and "FA7654321" not in page
    assert f.notification()["address"] not in page


def test_another_worker_of_the_same_permit_sees_it_and_nothing_of_his_colleague(client, worker):
    page = _status_page(client, "en", KARIM)
    section = page.split('id="permits"')[1].split("</section>")[0]
    assert worker["quota"] in section and worker["home"] not in section
    assert "Abdullayev" not in page and "FA1234567" not in page
