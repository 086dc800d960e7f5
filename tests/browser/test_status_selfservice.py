"""Migrants: check my status, in headless Chromium on a phone (390 px): start → details → result →
proof → a third party checks the proof. In Russian and in Uzbek."""

from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import BorderEventIn

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# What the pages say in each language (the catalogs' texts, as a user reads them).
WORDS = {
    "ru": {"start": "Начать", "citizenship": "Гражданство", "number": "Номер документа", "born": "Дата рождения",
           "continue": "Продолжить", "result": "Статус вашего пребывания", "lawful": "Законное пребывание",
           "proof": "Получить подтверждение", "proof_title": "Подтверждение статуса пребывания",
           "code": "Код для проверки", "holder_born": "Дата рождения владельца", "check": "Проверить",
           "valid": "Это подтверждение действительно.", "day": "День", "month": "Месяц", "year": "Год"},
    "uz": {"start": "Boshlash", "citizenship": "Fuqarolik", "number": "Hujjat raqami", "born": "Tugʻilgan sana",
           "continue": "Davom etish", "result": "Boʻlish maqomingiz", "lawful": "Qonuniy boʻlish",
           "proof": "Tasdiqnoma olish", "proof_title": "Boʻlish maqomi tasdiqnomasi",
           "code": "Tekshirish kodi", "holder_born": "Egasining tugʻilgan sanasi", "check": "Tekshirish",
           "valid": "Bu tasdiqnoma haqiqiy.", "day": "Kun", "month": "Oy", "year": "Yil"},
}
DOCUMENTS = {"ru": "FS7000001", "uz": "FS7000002"}


@pytest.fixture(scope="module")
def migrants(live_ctx):
    """Two Uzbek citizens who entered five days ago (a lawful stay today), one per language."""
    vc = service.validation_context(live_ctx)
    entered = service.local_today(live_ctx) - dt.timedelta(days=5)
    with live_ctx.transaction() as s:
        service.record_border_events(s, live_ctx, system_principal("browser tests"), [
            validate_model(BorderEventIn, f.border_event(document_number=number, surname=f"TESTOV{lang.upper()}",
                                                         occurred_at=f"{entered.isoformat()}T09:00:00+05:00"), vc)
            for lang, number in DOCUMENTS.items()])
    return DOCUMENTS


def _birth_date(page, words: dict[str, str], legend: str) -> None:
    group = page.get_by_role("group", name=legend)
    for part, value in (("day", "17"), ("month", "5"), ("year", "1990")):
        group.get_by_label(words[part], exact=True).fill(value)


def _fits(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_check_status_take_a_proof_and_check_it(browser, live_server, migrants, lang):
    words = WORDS[lang]
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"/status?lang={lang}")
        _fits(page)
        page.get_by_role("button", name=words["start"]).click()
        page.wait_for_url("**/status/check")
        page.get_by_label(words["citizenship"]).select_option("UZB")
        page.get_by_label(words["number"]).fill(migrants[lang])
        _birth_date(page, words, words["born"])
        _fits(page)
        page.get_by_role("button", name=words["continue"]).click()
        page.get_by_role("heading", level=1, name=words["result"]).wait_for()
        assert page.locator("[data-status]").inner_text() == words["lawful"]
        assert page.locator("html").get_attribute("lang") == lang
        _fits(page)

        page.get_by_role("button", name=words["proof"]).click()
        page.get_by_role("heading", level=1, name=words["proof_title"]).wait_for()
        code = page.locator("#share-code").inner_text().strip()
        assert len(code) == 11 and code.count("-") == 2
        assert page.get_by_role("button", name=words["valid"]).count() == 0
        _fits(page)

        page.goto(f"/status/verify?lang={lang}")
        page.get_by_label(words["code"]).fill(code)
        _birth_date(page, words, words["holder_born"])
        page.get_by_role("button", name=words["check"], exact=True).click()
        page.locator("#proof-valid").wait_for()
        assert words["valid"] in page.locator("#proof-valid").inner_text()
        assert f"TESTOV{lang.upper()}" in page.locator("#summary").inner_text()
        _fits(page)
    finally:
        context.close()
