"""Assist in headless Chromium: a requester types a question an article answers, sees it
suggested as they type, and says it answered; another is guided by the assistant to a filed
request of the right type."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from spoc.core.domain.models import Request
from spoc.core.services import spoc_of
from tests.browser import chromium_page, org_served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    with org_served(tmp_path_factory.mktemp("assist")) as (base, app, _):
        yield base, app


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def test_an_article_is_suggested_as_the_requester_types_and_counted_when_it_answered(
    server: tuple[str, Flask], browser_page: Page
) -> None:
    (base, app), page = server, browser_page
    page.goto(f"{base}/")
    page.get_by_role("link", name="Describe the problem and check for answers first").click()
    # Typed, not submitted: the suggestions follow the typing.
    page.get_by_label("What is the problem?").press_sequentially(
        "I forgot my password and cannot sign in"
    )
    suggested = page.locator("#assist-results a", has_text="Reset your password yourself")
    expect(suggested).to_be_visible()
    suggested.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password yourself")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    today = spoc_of(app).clock.now().date()
    assert spoc_of(app).articles.answer_counts("generic.reset_password") == [(today, 1, 0)]


def test_the_assistant_guides_a_requester_to_a_filed_request_of_the_right_type(
    server: tuple[str, Flask], browser_page: Page
) -> None:
    (base, app), page = server, browser_page
    page.context.clear_cookies()
    page.goto(f"{base}/")
    page.get_by_role("link", name="let the assistant guide you").click()
    page.get_by_label("What is it about?").fill("Our office printer is broken and shows an error")
    page.get_by_role("button", name="Send").click()
    page.get_by_label("Report something broken").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("It sounds like:")).to_be_visible()
    while page.get_by_role("button", name="Next").count():
        page.get_by_role("button", name="Next").click()
        if page.locator(".error").count():  # a required field the description did not fill
            field = page.locator(".field.has-error").first
            if field.locator("input[type=radio]").count():
                field.locator("input[type=radio]").first.check()
            else:
                field.locator("input, textarea, select").first.fill("Printer error E4 on floor 2")
    page.get_by_label("Your name").fill("Maria Anders")
    page.get_by_label("Your email").fill("maria@example.com")
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(r"/track/"))
    with spoc_of(app).db.reader() as session:
        filed = session.scalars(select(Request).order_by(Request.id.desc())).first()
    assert filed is not None and filed.type_key == "generic.incident"
