"""End to end in headless Chromium: a request filed on the portal, the agent's reply mailed, the
requester's answer by mail (the demo mailbox's button, through the real LMTP server), and the
agent sees it threaded on the request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from spoc import create_app
from spoc.core.mail.lmtp import mail_server
from spoc.core.mail.sink import mail_sink
from spoc.core.services import Spoc, spoc_of
from tests.browser import console_sign_in, served
from tests.conftest import build_org, free_port, give_password
from tests.core.test_browser_journey import browser_page

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
__all__ = ["browser_page"]


@pytest.fixture(scope="module")
def mail_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Spoc]]:
    folder = tmp_path_factory.mktemp("mail-e2e")
    sink_port, inbound_port = free_port(), free_port()
    app: Flask = create_app(
        env="test",
        database_url=f"sqlite:///{folder / 'e2e.sqlite'}",
        plugins=["generic"],
        instance_path=Path(folder),
        base_url="http://127.0.0.1",
        mail_from="Northwind help <help@example.org>",
        smtp_host="127.0.0.1",
        smtp_port=sink_port,
        demo_mailbox=folder / "mail",
        demo_inbound_port=inbound_port,
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    org = build_org(spoc)
    give_password(spoc, org.dana)
    give_password(spoc, org.ada)
    sink = mail_sink(folder / "mail", sink_port)
    inbound = mail_server(spoc.mail, port=inbound_port, max_bytes=spoc.settings.mail_max_bytes)
    sink.start()
    inbound.start()
    try:
        with served(app) as base:
            yield base, spoc
    finally:
        inbound.stop()
        sink.stop()
        spoc.db.dispose()


def test_the_requesters_answer_by_mail_lands_threaded_on_the_request(
    mail_demo: tuple[str, Spoc], browser_page: Page
) -> None:
    base, spoc = mail_demo
    page = browser_page
    page.goto(f"{base}/")
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Your name").fill("Maria Anders")
    page.get_by_label("Your email").fill("maria@example.com")
    page.get_by_label("Your reference").fill("NW-1")
    page.get_by_label("Summary").fill("Where is my March invoice?")
    page.get_by_role("button", name="Send request").click()
    expect(
        page.get_by_role("heading", level=2, name="We have your request: REQ-00001")
    ).to_be_visible()

    console_sign_in(page, base, "dana@example.org")
    page.goto(f"{base}/console/requests/1")
    page.get_by_label("Message").fill("Hello Maria, which invoice number do you mean?")
    page.get_by_role("button", name="Send reply to requester").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    assert spoc.outbox.deliver_due().errors == []  # the worker's pass: mail goes to the sink

    console_sign_in(page, base, "ada@example.org")
    page.goto(f"{base}/console/demo/mail")
    mail = page.locator("article.mail", has_text="You have a reply").first
    expect(mail).to_contain_text("which invoice number do you mean?")
    mail.get_by_text("Reply as the requester").click()
    mail.get_by_label("Reply").fill("It is invoice 4711, thank you.")
    mail.get_by_label("Attach a file (optional)").set_input_files(
        {"name": "invoice-4711.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    mail.get_by_role("button", name="Send the reply by mail").click()
    expect(page.get_by_text("Replied as maria@example.com by mail")).to_be_visible()

    console_sign_in(page, base, "dana@example.org")
    page.goto(f"{base}/console/requests/1")
    answer = page.locator("li.event", has_text="It is invoice 4711, thank you.")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("By mail")
    expect(answer).not_to_contain_text("SPOC wrote")  # the quoted history is cut
    download = answer.get_by_role("link", name="invoice-4711.pdf")
    expect(download).to_be_visible()
    assert page.request.get(base + (download.get_attribute("href") or "")).body() == PDF
    answer.get_by_role("link", name="the mail as it came").click()
    expect(page.get_by_text("which invoice number do you mean?")).to_be_visible()
