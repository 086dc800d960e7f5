"""A live Kosh server and a real headless Chromium (Debian's, driven by Playwright).

The server runs on PostgreSQL when it is reachable (the production database), else SQLite.
A screenshot of the page is saved under test-artifacts/ when a browser test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from kosh.platform import auth, db
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring
from kosh.web.app import create_app

CHROMIUM = os.environ.get("KOSH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-test-password"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def live_ctx(request, tmp_path_factory, sqlite_template):
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    try:
        engine = request.getfixturevalue("pg_engine")
        from conftest import _truncate_pg

        _truncate_pg(engine)
    except pytest.skip.Exception:
        path = tmp_path_factory.mktemp("db") / "kosh.db"
        shutil.copy(sqlite_template, path)
        engine = db.make_engine(f"sqlite:///{path}")
    ctx = Context(settings=settings, engine=engine, keyring=Keyring.generate())
    with ctx.transaction() as s:
        import factories as f

        for name, role, regions, party in [("officer", "officer", ["75"], None), ("host", "host", [], f.HOST_IIN)]:
            auth.create_user(s, ctx, username=name, password=PASSWORD, role=role, regions=regions, host_party=party,
                             display_name=name.title())
    return ctx


@pytest.fixture(scope="module")
def live_server(live_ctx):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(live_ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `./dev test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                                    "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def sign_in(page, username: str, purpose: str | None = "Browser tests, case 1/2026") -> None:
    """Sign in; with `purpose`, state it for the session when the role states one (a person's
    page opens only with a purpose: kosh.platform.purpose)."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    if purpose and page.locator("#purpose-now").count():
        page.goto("/purpose")
        page.locator("#f-purpose").fill(purpose)
        page.locator("#purpose-save").click()
        page.locator("#purpose-saved").wait_for()
