"""Accountability end to end in headless Chromium: an agent takes a triage request and the
requester's page names them; an agent goes away, the requester is told who covers, and the
cover gets the requester's next message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from spoc.core.domain.models import OutboxMessage
from spoc.core.services import Spoc, spoc_of
from tests.browser import chromium_page, console_sign_in, org_served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    with org_served(tmp_path_factory.mktemp("accountability"), "dana", "lee") as (base, app, _):
        yield base, app


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def file_request(page: Page, base: str, summary: str, reference: str = "") -> tuple[str, str]:
    """File a question on the portal as Maria; the tracking page's address and the
    request's reference."""
    page.context.clear_cookies()
    page.goto(f"{base}/")
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Your name").fill("Maria Anders")
    page.get_by_label("Your email").fill("maria@example.com")
    if reference:
        page.get_by_label("Your reference").fill(reference)
    page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Send request").click()
    heading = page.get_by_role("heading", level=2, name="We have your request")
    expect(heading).to_be_visible()
    return page.url.split("?")[0], heading.inner_text().rsplit(" ", 1)[-1]


def mails_to(spoc: Spoc, address: str) -> list[OutboxMessage]:
    with spoc.db.reader() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == address)
                .order_by(OutboxMessage.id)
            )
        )


def test_an_agent_takes_a_triage_request_and_the_requester_sees_who(
    server: tuple[str, Flask], browser_page: Page
) -> None:
    base, _ = server
    page = browser_page
    tracking, reference = file_request(page, base, "Which plan suits a team of twelve?")
    expect(page.locator(".contact-card")).to_contain_text("Service desk")

    console_sign_in(page, base, "lee@example.org")
    page.goto(f"{base}/console/queues/triage")
    page.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Take it").click()
    expect(page.get_by_role("button", name="Take it")).to_have_count(0)

    page.context.clear_cookies()
    page.goto(tracking)
    expect(page.locator(".contact-card")).to_contain_text("Lee Chen")
    expect(page.locator(".contact-card")).not_to_contain_text("Service desk")


def test_an_absence_starts_the_requester_is_told_and_the_cover_gets_the_next_message(
    server: tuple[str, Flask], browser_page: Page
) -> None:
    base, app = server
    spoc = spoc_of(app)
    page = browser_page
    tracking, reference = file_request(page, base, "Our March invoice is missing", reference="NW-1")
    expect(page.locator(".contact-card")).to_contain_text("Dana Reyes")

    # Dana records her absence from today in the console; the worker's sweep then sees it.
    console_sign_in(page, base, "dana@example.org")
    page.goto(f"{base}/console/absences")
    today = spoc.requests.today()
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("Until").fill((today + timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Add absence").click()
    expect(page.get_by_role("cell", name=today.isoformat()).first).to_be_visible()
    told_before = len(mails_to(spoc, "maria@example.com"))
    assert spoc.sweep().covered == 1
    spoc.sweep()  # a second pass tells nobody again

    told = mails_to(spoc, "maria@example.com")[told_before:]
    assert len(told) == 1
    assert "Lee Chen covers for Dana Reyes until" in told[0].subject

    page.context.clear_cookies()
    page.goto(tracking)
    expect(page.locator(".contact-card")).to_contain_text("Lee Chen")
    expect(page.locator(".covering")).to_contain_text("covers for Dana Reyes until")

    # The requester's next message goes to the cover, not to the absent agent.
    lee_before = len(mails_to(spoc, "lee@example.org"))
    dana_before = len(mails_to(spoc, "dana@example.org"))
    page.get_by_label("Add a message").fill("It is the one for the Berlin office.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("It is the one for the Berlin office.")).to_be_visible()
    assert len(mails_to(spoc, "lee@example.org")) == lee_before + 1
    assert len(mails_to(spoc, "dana@example.org")) == dana_before

    console_sign_in(page, base, "lee@example.org")
    page.goto(f"{base}/console/")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text("It is the one for the Berlin office.")).to_be_visible()
