"""Break-glass access in headless Chromium, on a phone-width screen and in Russian: an Almaty
officer opens a person registered in Turkistan for a stated purpose; the auditor sees it."""

from __future__ import annotations

import pytest

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.platform import auth
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import NotificationIn

pytestmark = pytest.mark.browser

PASSPORT = "FK4401977"


@pytest.fixture(scope="module")
def turkistan(live_ctx):
    vc = service.validation_context(live_ctx)
    with live_ctx.transaction() as s:
        auth.create_user(s, live_ctx, username="auditor", password=PASSWORD, role="auditor", display_name="Auditor")
        r = service.record_notifications(s, live_ctx, system_principal("browser tests"), [validate_model(
            NotificationIn, f.notification(source_event_id="N-BG-1", document_number=PASSPORT, surname="Юлдашев",
                                           given_names="Бекзод", kato="611010000",
                                           address="Туркестан, ул. Есимхана 12"), vc)])
    return r.person_ids[0]


def test_an_officer_opens_a_person_of_another_region_and_the_auditor_sees_it(page, turkistan):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "officer")
    page.goto(f"/persons/{turkistan}?lang=ru")
    assert page.get_by_role("heading", level=1).inner_text() != "Юлдашев Бекзод"  # a 404 page, in Russian
    page.goto("/access/new?lang=ru")
    page.get_by_label("Номер паспорта").fill(PASSPORT)
    page.get_by_label("Государство выдачи").fill("UZB")
    page.get_by_label("Цель").fill("коротко")
    page.get_by_role("button", name="Открыть доступ").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "не менее 10 символов" in summary.inner_text()  # the reason, in the reader's language
    page.get_by_label("Цель").fill("Постановление суда 2-114/2026, дело о торговле людьми")
    page.get_by_role("button", name="Открыть доступ").click()
    reference = page.locator("#grant-ref")
    reference.wait_for()
    assert reference.inner_text().startswith("BG-")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.get_by_role("link", name="Открыть карточку лица").click()
    page.wait_for_url(f"**/persons/{turkistan}")
    main = page.inner_text("main")
    assert "Есимхана 12" in main and PASSPORT in main
    assert page.locator("#break-glass-on").is_visible()
    page.get_by_role("button", name="Выйти").click()
    page.goto("/login?lang=en")  # sign_in reads the English labels
    sign_in(page, "auditor")
    page.goto("/access?lang=ru")
    rows = page.locator("#grants tbody tr")
    assert rows.count() == 1
    assert "officer" in rows.first.inner_text() and "2-114/2026" in rows.first.inner_text()
