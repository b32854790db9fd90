"""What the browser tests share: the app served on a free port in a thread, and a page of
Debian's headless Chromium (``.ci/run`` installs it)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from spoc import create_app
from spoc.core.services import spoc_of
from spoc.testing import PASSWORD
from tests.conftest import Org, build_org, give_password

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` on 127.0.0.1 in a thread for as long as the block runs; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh page of headless Chromium, closed after the block."""
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def console_sign_in(page: Page, base: str, email: str) -> None:
    """Sign ``email`` in on the console in a fresh browser session (password: the kit's)."""
    page.context.clear_cookies()
    page.goto(f"{base}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@contextmanager
def org_served(
    folder: Path, *staff: str, plugins: tuple[str, ...] = ("generic",)
) -> Iterator[tuple[str, Flask, Org]]:
    """An app on a SQLite file in ``folder`` with the test organisation (``build_org``), the
    named staff (``"dana"``, ``"ada"``…) given the kit's password, served on 127.0.0.1:
    its base URL, the app and the organisation."""
    app = create_app(
        env="test",
        database_url=f"sqlite:///{folder / 'e2e.sqlite'}",
        plugins=list(plugins),
        instance_path=folder,
        base_url="http://127.0.0.1",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    org = build_org(spoc)
    for name in staff:
        give_password(spoc, getattr(org, name))
    try:
        with served(app) as base:
            yield base, app, org
    finally:
        spoc.db.dispose()
