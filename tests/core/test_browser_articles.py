"""A knowledge article written in the console, in headless Chromium: it appears on the portal
escaped and sanitised — no script in its Markdown ever runs, in the preview or on the portal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser import chromium_page, console_sign_in, org_served

pytestmark = pytest.mark.slow

HOSTILE = """Printers jam when the tray is overfilled.

<script>window.pwned = "script"</script>
<img src="x" onerror="window.pwned = 'onerror'">
[a link](javascript:window.pwned='link')
<a href="#" onclick="window.pwned='onclick'">click me</a>

**Take out** the paper, fan it, and put back at most 200 sheets.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with org_served(tmp_path_factory.mktemp("articles"), "ada") as (base, _, _):
        yield base


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def never_ran(page: Page) -> None:
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_an_article_with_script_in_its_markdown_never_runs_it(
    server: str, browser_page: Page
) -> None:
    base, page = server, browser_page
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    console_sign_in(page, base, "ada@example.org")
    page.goto(f"{base}/console/articles/new")
    page.get_by_label("Slug").fill("paper_jams")
    page.get_by_label("Language").fill("en")
    page.get_by_label("Title").fill("Paper jams <b>fixed</b>")
    page.get_by_label("Article (Markdown)").fill(HOSTILE)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Preview (as the portal shows it)")).to_be_visible()
    never_ran(page)
    page.get_by_role("button", name="Publish the draft").click()
    never_ran(page)

    page.context.clear_cookies()
    page.goto(f"{base}/help/kb.paper_jams")
    expect(page.get_by_role("heading", level=1)).to_have_text("Paper jams <b>fixed</b>")
    body = page.locator(".article-body")
    expect(body.locator("strong")).to_have_text("Take out")  # Markdown still renders
    expect(body).to_contain_text("Printers jam when the tray is overfilled.")
    assert body.locator("script, [onerror], [onclick]").count() == 0
    assert body.locator("a[href^='javascript']").count() == 0
    page.get_by_text("click me").click()
    if body.locator("a", has_text="a link").count():
        body.locator("a", has_text="a link").click()
    never_ran(page)
    assert dialogs == []
