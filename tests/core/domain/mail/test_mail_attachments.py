"""Files that come with a mail land on its request under the attachment rules: readable by the
requester and the owner, 404 to a specialist outside the teams; a refused file is named, and
does not cost the requester their message."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage

from sqlalchemy import select

from spoc import Actor
from spoc.core.domain.models import Attachment, Message
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, build_org, login
from tests.core.domain.mail.mails import outbox, receive

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _with_files(*files: tuple[bytes, str, str], subject: str = "Damaged parcel") -> bytes:
    mail = EmailMessage()
    mail["From"] = "Maria Anders <maria@example.com>"
    mail["To"] = "help@example.org"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<files-{subject.replace(' ', '-')}@client.example.com>"
    mail.set_content("The box arrived crushed; the delivery note is attached.")
    for data, name, kind in files:
        maintype, subtype = kind.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes(policy=policy.SMTP)


def test_a_mailed_file_is_read_by_the_requester_and_the_owner_only(make_app: AppFactory) -> None:
    app = make_app(mail_from="help@example.org")
    org = build_org(spoc_of(app))
    receipt = receive(org.spoc, _with_files((PDF, "delivery-note.pdf", "application/pdf")))
    request_id = receipt.request_id or 0
    with org.spoc.db.reader() as session:
        [file] = session.scalars(select(Attachment)).all()
        assert (file.filename, file.content_type) == ("delivery-note.pdf", "application/pdf")
    [ack] = outbox(org.spoc, "maria@example.com")
    found = re.search(r"/track/([A-Za-z0-9_-]+)", ack.body_text)
    assert found
    requester = app.test_client()
    response = requester.get(f"/track/{found.group(1)}/files/{file.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    owner = app.test_client()
    login(owner, org.spoc, org.sam)  # the desk owns what nobody else is acting for
    assert owner.get(f"/console/requests/{request_id}/files/{file.id}").data == PDF
    outsider = app.test_client()
    login(outsider, org.spoc, org.kim)
    assert outsider.get(f"/console/requests/{request_id}/files/{file.id}").status_code == 404


def test_a_refused_file_is_named_and_the_message_still_lands(make_app: AppFactory) -> None:
    app = make_app(mail_from="help@example.org")
    org = build_org(spoc_of(app))
    first = receive(org.spoc, _with_files(subject="First"))
    reply = _with_files(
        (PDF, "note.pdf", "application/pdf"),
        (b"MZ\x90\x00 this is a program", "invoice.exe", "application/octet-stream"),
        subject=f"Re: [REQ-{first.request_id:05d}] more",
    )
    receive(org.spoc, reply)
    with org.spoc.db.reader() as session:
        [*_, message] = session.scalars(
            select(Message).where(Message.request_id == first.request_id).order_by(Message.id)
        ).all()
        names = session.scalars(select(Attachment.filename)).all()
    assert "The box arrived crushed" in message.body
    assert "Files not accepted: invoice.exe: this type of file is not accepted" in message.body
    assert names == ["note.pdf"]
    assert org.spoc.requests.get(first.request_id or 0, Actor.system()).status.value == "new"
