"""End to end in a real headless Chromium: a requester files, an agent replies, the requester
sees the reply and rates it — and every page on the way passes an axe-core scan.

Needs Debian's ``chromium`` (``apt-get install chromium``); ``.ci/run`` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect

from spoc import create_app
from spoc.core.services import spoc_of
from tests.browser import chromium_page, served
from tests.conftest import PASSWORD, build_org, give_password

pytestmark = pytest.mark.slow

BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        env="test",
        database_url=f"sqlite:///{folder / 'e2e.sqlite'}",
        plugins=["generic"],
        instance_path=Path(folder),
        base_url="http://127.0.0.1",
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    org = build_org(spoc)
    give_password(spoc, org.dana)
    with served(app) as base:
        yield base, app
    spoc.db.dispose()


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def accessible(page: Page, scans: list[tuple[str, list[str]]]) -> None:
    """Scan the current page with axe-core; collect serious and critical violations."""
    results = Axe().run(page)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]
    scans.append((page.url, problems))


def test_requester_files_agent_replies_requester_rates(
    server: tuple[str, Flask], browser_page: Page
) -> None:
    base, _ = server
    page = browser_page
    scans: list[tuple[str, list[str]]] = []

    # The requester finds the right form from the catalogue.
    page.goto(f"{base}/")
    accessible(page, scans)
    page.get_by_role("link", name="Ask a question").click()
    accessible(page, scans)
    # Submitting an empty form shows the error summary, and the page still passes axe.
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("problem")
    accessible(page, scans)
    page.get_by_label("Your name").fill("Maria Anders")
    page.get_by_label("Your email").fill("maria@example.com")
    page.get_by_label("Your reference").fill("NW-1")
    page.get_by_label("Summary").fill("Where is my March invoice?")
    page.get_by_role("button", name="Send request").click()
    expect(
        page.get_by_role("heading", level=2, name="We have your request: REQ-00001")
    ).to_be_visible()
    expect(page.locator(".contact-card")).to_contain_text("Dana Reyes")
    accessible(page, scans)
    tracking_url = page.url.split("?")[0]

    # The agent signs in, finds it in their queue and replies.
    page.goto(f"{base}/console/login")
    accessible(page, scans)
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    accessible(page, scans)
    page.get_by_role("link", name="REQ-00001").click()
    accessible(page, scans)
    page.get_by_label("Message").fill("Hello Maria, your March invoice is attached.")
    page.get_by_role("button", name="Send reply to requester").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    page.get_by_label("Move to").select_option("resolved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Status changed to resolved.")).to_be_visible()
    for url in ("/console/subjects", "/console/absences", "/console/queues/triage"):
        page.goto(f"{base}{url}")
        accessible(page, scans)

    # The requester sees the reply on the tracking page and rates it.
    page.context.clear_cookies()
    page.goto(tracking_url)
    expect(page.get_by_text("Hello Maria, your March invoice is attached.")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Resolved — please confirm")
    accessible(page, scans)
    page.get_by_label("5 (excellent)").check()
    page.get_by_label("Comment").fill("Quick, thank you")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(page.get_by_text("You rated this request 5 out of 5")).to_be_visible()
    page.goto(f"{base}/my-requests")
    accessible(page, scans)

    failures = [f"{url}: {problem}" for url, problems in scans for problem in problems]
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
    assert len(scans) >= 10
