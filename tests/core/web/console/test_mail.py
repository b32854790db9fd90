"""Mail on the console: held mail accepted, filed or dismissed by the owner; originals read
only by those who may read the request."""

from __future__ import annotations

from flask import Flask

from spoc import Actor
from spoc.core.domain.models import Contact, Message
from spoc.core.kernel.mail import MailOutcome
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, login
from tests.core.domain.mail.mails import compose, inbound, receive


def _held(make_app: AppFactory) -> tuple[Flask, Org, int, int]:
    app = make_app(mail_from="help@example.org")
    org = build_org(spoc_of(app))
    filed = receive(org.spoc, compose(message_id="<first@client.example.com>"))
    stranger = compose(
        sender="Eve Example <eve@elsewhere.example>",
        subject=f"Re: [REQ-{filed.request_id:05d}]",
        body="<b>Please</b> send the invoice to me instead.",
    )
    held = receive(org.spoc, stranger)
    assert held.outcome == MailOutcome.HELD
    return app, org, filed.request_id or 0, inbound(org.spoc)[-1].id


def test_the_owner_sees_held_mail_and_accepts_it_as_a_note(make_app: AppFactory) -> None:
    app, org, request_id, mail_id = _held(make_app)
    client = app.test_client()
    login(client, org.spoc, org.sam)  # the desk owns it
    page = client.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "Mail waiting for you (1)" in page
    assert "&lt;b&gt;Please&lt;/b&gt;" in page  # the mail's text is escaped, never markup
    token = csrf_token(client, f"/console/requests/{request_id}")
    response = client.post(
        f"/console/requests/{request_id}/mail/{mail_id}/accept", data={"csrf_token": token}
    )
    assert response.status_code == 303
    with org.spoc.db.reader() as session:
        [*_, note] = session.query(Message).filter(Message.request_id == request_id).all()
        assert note.visibility.value == "internal"
        assert "eve@elsewhere.example" in note.body and "send the invoice" in note.body
    page = client.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "Mail waiting for you" not in page
    again = client.post(
        f"/console/requests/{request_id}/mail/{mail_id}/accept", data={"csrf_token": token}
    )
    assert again.status_code == 303  # refused with a message, nothing posted twice
    with org.spoc.db.reader() as session:
        assert session.query(Message).filter(Message.request_id == request_id).count() == 1


def test_a_held_mail_filed_as_a_new_request_is_the_senders(make_app: AppFactory) -> None:
    _, org, request_id, mail_id = _held(make_app)
    new_id = org.spoc.mail.file_held(mail_id, org.actor(org.sam))
    new = org.spoc.requests.get(new_id, Actor.system())
    assert new_id != request_id and "send the invoice" in new.fields["details"]
    with org.spoc.db.reader() as session:
        contact = session.get(Contact, new.contact_id)
        assert contact is not None and contact.email == "eve@elsewhere.example"


def test_originals_are_read_only_by_who_may_read_the_request(make_app: AppFactory) -> None:
    app, org, _, mail_id = _held(make_app)
    client = app.test_client()
    login(client, org.spoc, org.kim)  # a specialist outside the request's teams
    assert client.get(f"/console/mail/{mail_id}").status_code == 404
    owner = app.test_client()
    login(owner, org.spoc, org.sam)
    page = owner.get(f"/console/mail/{mail_id}").get_data(as_text=True)
    assert "Mail from Eve Example" in page and "Message-ID" in page
    assert "&lt;b&gt;Please&lt;/b&gt;" in page
