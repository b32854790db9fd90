"""End to end in a real headless Chromium: an admin uploads a CSV of 10,000 subjects, which
goes to the worker as a job; its status page shows a progress bar the page's script moves as
the worker checks and writes; the dry run lists the bad lines by number and writes nothing,
the corrected file imports them all — and the pages pass an axe-core scan.

Needs Debian's ``chromium`` (``apt-get install chromium``); ``.ci/run`` installs it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from spoc import create_app
from spoc.core.domain.models import Subject
from spoc.core.services import spoc_of
from tests.browser import chromium_page, served
from tests.conftest import PASSWORD, build_org, give_password
from tests.core.test_browser_journey import accessible

pytestmark = pytest.mark.slow

LINES = 10_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Flask]]:
    app = create_app(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'import.sqlite'}",
        plugins=["generic"],
        instance_path=tmp_path,
        base_url="http://127.0.0.1",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    org = build_org(spoc)
    give_password(spoc, org.ada)
    stop = threading.Event()

    def worker() -> None:  # the worker's import task, as each `spoc worker` pass runs it
        while not stop.is_set():
            if not spoc.imports.run_next():
                stop.wait(0.2)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    with served(app) as base:
        yield base, app
    stop.set()
    thread.join(timeout=30)
    spoc.db.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium_page() as browser_page:
        yield browser_page


def _csv(path: Path, broken: dict[int, str]) -> Path:
    rows = [f"Account {n},AC-{n:05d},dana@example.org,lee@example.org" for n in range(LINES)]
    for index, line in broken.items():
        rows[index] = line
    path.write_text("name,external_ref,spoc,deputies\n" + "\n".join(rows) + "\n")
    return path


def test_an_admin_imports_ten_thousand_subjects_with_errors_listed_by_line(
    server: tuple[str, Flask], page: Page, tmp_path: Path
) -> None:
    base, app = server
    scans: list[tuple[str, list[str]]] = []
    page.goto(f"{base}/console/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Subjects").first.click()
    page.get_by_role("link", name="Import from CSV").click()
    accessible(page, scans)

    bad = _csv(tmp_path / "bad.csv", {41: ",AC-00041,,", 7_311: "Acme,AC-07311,ghost@nowhere.org,"})
    page.get_by_label("Kind").select_option("generic.account")
    page.get_by_label("CSV file (UTF-8)").set_input_files(bad)
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page).to_have_url(re.compile(r"/console/imports/\d+$"))
    bar = page.locator("#import-progress")
    expect(bar).to_have_attribute("max", str(LINES))
    errors = page.locator("#errors tbody tr")
    expect(errors).to_have_count(2, timeout=60_000)  # the script reloaded the finished job
    expect(errors.nth(0)).to_contain_text("43")  # the header is line 1
    expect(errors.nth(0)).to_contain_text("name")
    expect(errors.nth(1)).to_contain_text("7313")
    expect(errors.nth(1)).to_contain_text("ghost@nowhere.org is not an active agent")
    expect(bar).to_have_attribute("value", str(LINES))  # every line checked
    accessible(page, scans)
    with spoc_of(app).db.reader() as session:
        assert session.scalar(select(func.count(Subject.id))) == 1

    page.goto(f"{base}/console/subjects/import")
    good = _csv(tmp_path / "good.csv", {})
    page.get_by_label("Kind").select_option("generic.account")
    page.get_by_label("CSV file (UTF-8)").set_input_files(good)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-summary")).to_contain_text(
        f"{LINES} lines: created {LINES}, updated 0", timeout=120_000
    )
    expect(page.locator("#import-progress")).to_have_attribute("value", str(LINES))
    expect(page.locator("#progress-title")).to_have_text("Imported")
    accessible(page, scans)
    with spoc_of(app).db.reader() as session:
        assert session.scalar(select(func.count(Subject.id))) == LINES + 1

    failures = [f"{url}: {problem}" for url, problems in scans for problem in problems]
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
