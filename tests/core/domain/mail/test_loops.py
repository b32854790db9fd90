"""Automatic mail is never answered, bounces mark the address, oversized mail is refused."""

from __future__ import annotations

from spoc.core.domain.models import Contact
from spoc.core.kernel.mail import MailOutcome
from tests.conftest import Org
from tests.core.domain.mail.mails import compose, inbound, outbox, receive


def test_auto_submitted_bulk_list_and_daemon_mail_is_stored_and_never_answered(
    mailroom: Org,
) -> None:
    automatic = [
        compose(headers={"Auto-Submitted": "auto-replied"}),
        compose(headers={"Precedence": "bulk"}),
        compose(headers={"List-Id": "<news.example.com>"}),
        compose(sender="MAILER-DAEMON@mx.example.com"),
        compose(sender="noreply@shop.example.com"),
    ]
    outcomes = [receive(mailroom.spoc, raw).outcome for raw in automatic]
    assert outcomes == [MailOutcome.IGNORED] * 5
    assert outbox(mailroom.spoc) == []
    with mailroom.spoc.db.reader() as session:
        assert session.query(Contact).count() == 0


def test_two_auto_responders_stop_after_one_message(mailroom: Org) -> None:
    """A well-behaved responder (Auto-Submitted) and a careless one (no header at all):
    SPOC sends each one message, and the exchange ends there."""
    spoc = mailroom.spoc
    for responder, marks in (
        ("away@example.com", {"Auto-Submitted": "auto-replied"}),
        ("careless@example.com", {}),
    ):
        receipt = receive(spoc, compose(sender=responder, subject="Out of office"))
        for _ in range(3):  # each answer of ours meets another automatic answer
            [*_, last] = outbox(spoc, responder)
            echo = compose(
                sender=responder,
                subject=f"Auto: {last.subject}",
                body="I am out of the office.",
                headers={"In-Reply-To": last.headers["Message-ID"], **marks},
            )
            receive(spoc, echo)
        assert len(outbox(spoc, responder)) == 1, responder
        assert receipt.outcome == MailOutcome.FILED


def _dsn(recipient: str, original_id: str) -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    return (
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        "To: help@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--b1\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_id}>\r\n"
        "Subject: We have your request\r\n"
        "--b1--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_and_names_the_request(mailroom: Org) -> None:
    spoc = mailroom.spoc
    receipt = receive(spoc, compose())
    [ack] = outbox(spoc, "maria@example.com")
    bounced = receive(spoc, _dsn("maria@example.com", ack.headers["Message-ID"].strip("<>")))
    assert bounced.outcome == MailOutcome.BOUNCE
    assert bounced.request_id == receipt.request_id
    with spoc.db.reader() as session:
        contact = session.query(Contact).one()
        assert contact.mail_bounced_at is not None
        assert "no such user" in (contact.mail_bounce_reason or "")
    # Nobody answers a bounce.
    assert outbox(spoc, "mailer-daemon@mx.example.com") == []
    assert len(outbox(spoc, "maria@example.com")) == 1
    # The requester writes again: the address works, the mark goes.
    receive(spoc, compose(subject=f"Re: [REQ-{receipt.request_id:05d}]", body="New address?"))
    with spoc.db.reader() as session:
        assert session.query(Contact).one().mail_bounced_at is None


def test_an_oversized_mail_is_refused_with_a_clear_bounce(make_app) -> None:  # type: ignore[no-untyped-def]
    from spoc.core.services import spoc_of

    spoc = spoc_of(make_app(mail_from="help@example.org", mail_max_bytes=64 * 1024))
    raw = compose(body="x" * 70_000, message_id="<big@client.example.com>")
    receipt = receive(spoc, raw)
    assert not receipt.accepted and receipt.outcome == MailOutcome.REFUSED
    assert "the largest we accept is 0.1 MB" in receipt.reason
    [bounce] = outbox(spoc, "maria@example.com")
    assert bounce.subject == "Your mail was too large"
    assert bounce.headers["Auto-Submitted"] == "auto-replied"
    assert "the largest we accept" in bounce.body_text
    assert inbound(spoc)[0].raw is None  # nothing of it is kept
    again = receive(spoc, raw)  # the sender's server retries: refused again, no second bounce
    assert not again.done and len(outbox(spoc, "maria@example.com")) == 1
    with spoc.db.reader() as session:
        assert session.query(Contact).count() == 0
