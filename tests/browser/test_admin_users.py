"""An admin deactivates an account in a real browser; the user's open session and token end at once."""

from __future__ import annotations

import httpx
import pytest

from browser.conftest import PASSWORD, sign_in
from kosh.platform import auth

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def accounts(live_ctx):
    with live_ctx.transaction() as s:
        auth.create_user(s, live_ctx, username="chief", password=PASSWORD, role="admin", display_name="Chief")
        clerk = auth.create_user(s, live_ctx, username="clerk", password=PASSWORD, role="officer", regions=["75"])
        return auth.issue_token(s, live_ctx, clerk, "script")


def test_admin_deactivates_after_confirming_and_the_user_is_out_at_once(page, browser, live_server, accounts):
    me = httpx.get(f"{live_server}/api/v1/me", headers={"authorization": f"Bearer {accounts}"})
    assert me.status_code == 200
    clerk_context = browser.new_context(base_url=live_server, locale="en-GB")
    clerk = clerk_context.new_page()
    sign_in(clerk, "clerk")
    assert clerk.get_by_role("button", name="Sign out").is_visible()

    sign_in(page, "chief")
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="clerk").click()
    page.get_by_role("link", name="Deactivate the account").click()
    assert page.get_by_role("heading", name="Deactivate clerk?").is_visible()
    page.get_by_role("button", name="Yes, deactivate").click()
    assert "their sessions and tokens have ended" in page.get_by_role("status").inner_text()

    clerk.reload()
    assert clerk.get_by_role("banner").get_by_role("link", name="Sign in").is_visible()
    assert clerk.get_by_role("button", name="Sign out").count() == 0
    clerk_context.close()
    me = httpx.get(f"{live_server}/api/v1/me", headers={"authorization": f"Bearer {accounts}"})
    assert me.status_code == 401
