"""Magic sign-in links: single use, and asking for one does the same work for any address."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from spoc.core.domain.models import MagicLink, OutboxMessage
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Inbox, csrf_token
from tests.core.web.portal.test_portal import file_request


@pytest.fixture
def portal(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])


def ask(app: Flask, email: str) -> str:
    client = app.test_client()
    response = client.post("/my-requests", data={"csrf_token": csrf_token(client), "email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows(app: Flask) -> tuple[list[dict[str, Any]], int]:
    with spoc_of(app).db.reader() as session:
        queued = [
            {
                "channel": m.channel,
                "subject": m.subject,
                "body": m.body_text,
                "html": m.body_html,
                "status": m.status,
                "request": m.request_id,
            }
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == "magic_link")
            )
        ]
        links = len(session.scalars(select(MagicLink)).all())
    return queued, links


def test_a_magic_link_signs_in_once(portal: Flask, inbox: tuple[Inbox, int]) -> None:
    file_request(portal.test_client())
    ask(portal, "maria@example.com")
    spoc_of(portal).outbox.deliver_due()
    link = inbox[0].link()
    first = portal.test_client()
    assert first.get(link).headers["Location"].endswith("/my")
    assert "Where is my invoice?" in first.get("/my").get_data(as_text=True)
    second = portal.test_client()
    page = second.get(link, follow_redirects=True).get_data(as_text=True)
    assert "That link was used already" in page and 'name="email"' in page
    assert second.get("/my").status_code == 303  # not signed in


def test_asking_for_a_known_or_unknown_address_does_the_same_work(
    portal: Flask, inbox: tuple[Inbox, int]
) -> None:
    file_request(portal.test_client())  # maria@example.com is known
    spoc_of(portal).outbox.deliver_due()
    inbox[0].messages.clear()
    known_page = ask(portal, "maria@example.com")
    after_known = rows(portal)
    unknown_page = ask(portal, "nobody@example.com")
    after_both = rows(portal)
    # One row of the same kind each, no link made yet, the same answer.
    assert known_page.replace("maria", "") == unknown_page.replace("nobody", "")
    assert len(after_known[0]) == 1 and after_known[1] == 0
    assert after_both[0] == [after_known[0][0], after_known[0][0]] and after_both[1] == 0
    with spoc_of(portal).db.reader() as session:
        recipients = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.channel == "magic_link")
        ).all()
    assert sorted(recipients) == ["maria@example.com", "nobody@example.com"]
    # The worker decides: a mail with a link for the known address, nothing for the other.
    spoc_of(portal).outbox.deliver_due()
    assert [m["To"] for m in inbox[0].messages] == ["maria@example.com"]
    assert rows(portal)[1] == 1
    assert {m["status"] for m in rows(portal)[0]} == {"sent"}


def test_no_working_link_is_stored_in_the_outbox(portal: Flask, inbox: tuple[Inbox, int]) -> None:
    file_request(portal.test_client())
    ask(portal, "maria@example.com")
    spoc_of(portal).outbox.deliver_due()
    token = inbox[0].link().rsplit("/", 1)[-1]
    with spoc_of(portal).db.reader() as session:
        stored = session.scalars(select(OutboxMessage.body_text)).all()
    assert not any(token in body for body in stored)
