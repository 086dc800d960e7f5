"""In headless Chromium, in English on a desktop and in Russian on a phone-width screen: an
officer opening a person is asked for the purpose first and then goes on to the person; the
auditor finds that read in the audit browser with the purpose, opens the record in full, and
runs the chain check."""

from __future__ import annotations

import pytest

import factories as f
from browser.conftest import PASSWORD, sign_in
from kosh.platform import auth
from kosh.platform.i18n import translations
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import NotificationIn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def almaty_person(live_ctx):
    vc = service.validation_context(live_ctx)
    with live_ctx.transaction() as s:
        auth.create_user(s, live_ctx, username="auditor", password=PASSWORD, role="auditor", display_name="Auditor")
        r = service.record_notifications(s, live_ctx, system_principal("browser tests"), [validate_model(
            NotificationIn, f.notification(source_event_id="N-PUR-1", document_number="FP5500123",
                                           surname="Нурланов", given_names="Алишер"), vc)])
    return r.person_ids[0]


@pytest.mark.parametrize(("lang", "width", "case"), [("en", 1280, "Case 7-301/2026, stay extension check"),
                                                     ("ru", 390, "Дело 7-302/2026, проверка продления")])
def test_a_purpose_stated_for_a_person_reaches_the_auditor(page, almaty_person, lang, width, case):
    _ = translations(lang).gettext
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "officer", purpose=None)
    page.goto(f"/persons/{almaty_person}?lang={lang}")
    # Asked for the purpose first, in the reader's language; a too-short one is refused beside the field.
    page.locator("#purpose-asked").wait_for()
    assert _("State the purpose of your access before you open a person's record. You will then go on to the "
             "record.") in page.locator("#purpose-asked").inner_text()
    page.get_by_label(_("Purpose"), exact=False).fill("ab")
    page.locator("#purpose-save").click()
    assert page.locator("#e-purpose").inner_text().startswith(_(
        "State the purpose in at least %(min)s characters: the case or order number, and why.")[:20])
    page.get_by_label(_("Purpose"), exact=False).fill(case)
    page.locator("#purpose-save").click()
    page.wait_for_url(f"**/persons/{almaty_person}*")  # went on to the person
    assert "Нурланов" in page.inner_text("main")
    assert case[:30] in page.locator("#purpose-now").inner_text()  # the header shows the purpose
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no sideways scrolling
    page.get_by_role("button", name=_("Sign out")).click()

    page.goto("/login?lang=en")  # sign_in reads the English labels
    sign_in(page, "auditor", purpose="Quarterly review of access")
    page.goto(f"/audit?lang={lang}")
    page.get_by_label(_("Person id")).fill(almaty_person)
    page.get_by_label(_("User"), exact=False).first.fill("officer")
    page.get_by_role("button", name=_("Show records")).click()
    rows = page.locator("#audit-records tbody tr")
    rows.first.wait_for()
    assert case in rows.first.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    rows.first.locator("a").first.click()
    page.locator("#audit-record").wait_for()
    assert page.locator("#record-purpose").inner_text() == case
    assert len(page.locator("#record-mac").inner_text()) == 64
    assert len(page.locator("#record-prev-mac").inner_text()) == 64
    page.get_by_role("link", name=_("Back to the audit trail")).click()
    page.get_by_role("button", name=_("Check the chain")).click()
    result = page.locator("#chain-result")
    result.wait_for()
    assert result.get_attribute("data-chain") == "intact"
    assert _("The chain is intact.") in result.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
