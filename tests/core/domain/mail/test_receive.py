"""Every mail in lands once, on its request: filed, threaded three ways, held, or refused."""

from __future__ import annotations

from datetime import timedelta

from spoc import Actor, FrozenClock, Status
from spoc.core.domain.models import Contact, Message, Request
from spoc.core.kernel.mail import MailOutcome
from tests.conftest import Org
from tests.core.domain.mail.mails import compose, inbound, outbox, receive


def messages(org: Org, request_id: int) -> list[Message]:
    with org.spoc.db.reader() as session:
        return list(
            session.query(Message).filter(Message.request_id == request_id).order_by(Message.id)
        )


def test_a_mail_files_a_new_request_routed_like_the_portal_and_acknowledged(
    mailroom: Org,
) -> None:
    spoc = mailroom.spoc
    raw = compose(message_id="<first@client.example.com>")
    receipt = receive(spoc, raw)
    assert receipt.accepted and receipt.outcome == MailOutcome.FILED
    request = spoc.requests.get(receipt.request_id or 0, Actor.system())
    assert request.type_key == "generic.question"
    assert request.summary == "Where is my invoice?"
    assert request.fields["details"] == "I have not received the invoice for March."
    assert request.owner_team_id == mailroom.desk.id  # no subject: the desk, as on the portal
    with spoc.db.reader() as session:
        contact = session.get(Contact, request.contact_id)
        assert contact is not None and contact.email == "maria@example.com"
        assert contact.name == "Maria Anders"
    [ack] = outbox(spoc, "maria@example.com")
    assert ack.subject == f"[REQ-{request.id:05d}] We have your request"
    assert "/track/" in ack.body_text
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.headers["In-Reply-To"] == "<first@client.example.com>"
    assert ack.headers["Reply-To"] == spoc.addressing.reply_address(request.id)
    assert ack.headers["Message-ID"].endswith("@example.org>")


def test_the_receiving_address_chooses_the_request_type(make_app) -> None:  # type: ignore[no-untyped-def]
    from spoc.core.services import spoc_of

    spoc = spoc_of(
        make_app(mail_from="help@example.org", mail_addresses="broken@example.org=generic.incident")
    )
    receipt = receive(spoc, compose(to="broken@example.org"), to="broken@example.org")
    request = spoc.requests.get(receipt.request_id or 0, Actor.system())
    assert request.type_key == "generic.incident"
    assert request.fields["impact"] == request.fields["urgency"] == "medium"


def _filed(org: Org) -> Request:
    receipt = receive(org.spoc, compose(message_id="<first@client.example.com>"))
    return org.spoc.requests.get(receipt.request_id or 0, Actor.system())


def test_a_reply_is_threaded_by_the_message_id_it_answers(mailroom: Org) -> None:
    request = _filed(mailroom)
    [ack] = outbox(mailroom.spoc, "maria@example.com")
    reply = compose(
        subject="Re: something else entirely",
        body="Here is the order number: 4711.\n\nOn Mon, 2 Mar 2026, help wrote:\n> We have it",
        headers={"In-Reply-To": ack.headers["Message-ID"]},
        to="someone@example.org",
    )
    receipt = receive(mailroom.spoc, reply, to="someone@example.org")
    assert (receipt.outcome, receipt.request_id) == (MailOutcome.THREADED, request.id)
    assert messages(mailroom, request.id)[-1].body == "Here is the order number: 4711."
    [row] = [m for m in inbound(mailroom.spoc) if m.outcome == MailOutcome.THREADED]
    assert row.reason == "by message-id"
    assert "We have it" in (row.text or "")  # the original, quoted history and all, is kept


def test_a_reply_is_threaded_by_the_reply_address(mailroom: Org) -> None:
    request = _filed(mailroom)
    address = mailroom.spoc.addressing.reply_address(request.id)
    receipt = receive(mailroom.spoc, compose(subject="no reference", to=address), to=address)
    assert (receipt.outcome, receipt.request_id) == (MailOutcome.THREADED, request.id)
    assert inbound(mailroom.spoc)[-1].reason == "by reply-address"


def test_a_forged_reply_token_threads_nothing(mailroom: Org) -> None:
    request = _filed(mailroom)
    forged = f"help+{request.id}-aaaaaaaaaaaaaaaa@example.org"
    receipt = receive(mailroom.spoc, compose(subject="no reference", to=forged), to=forged)
    assert receipt.outcome == MailOutcome.FILED and receipt.request_id != request.id


def test_a_reply_is_threaded_by_the_reference_in_its_subject(mailroom: Org) -> None:
    request = _filed(mailroom)
    subject = f"Re: [REQ-{request.id:05d}] We have your request"
    receipt = receive(mailroom.spoc, compose(subject=subject, body="Thanks!"))
    assert (receipt.outcome, receipt.request_id) == (MailOutcome.THREADED, request.id)
    assert inbound(mailroom.spoc)[-1].reason == "by subject"


def test_a_reply_puts_a_waiting_request_back_in_progress_and_tells_the_owner(
    mailroom: Org,
) -> None:
    request = _filed(mailroom)
    sam = mailroom.actor(mailroom.sam)
    mailroom.spoc.requests.post_message(request.id, sam, "Which month?")
    mailroom.spoc.requests.transition(request.id, Status.WAITING, sam)
    subject = f"Re: [REQ-{request.id:05d}] You have a reply"
    receive(mailroom.spoc, compose(subject=subject, body="March."))
    assert mailroom.spoc.requests.get(request.id, Actor.system()).status is Status.OPEN
    assert [m.subject for m in outbox(mailroom.spoc, "sam@example.org")][-1].endswith("New message")


def test_a_strangers_reply_is_held_for_the_owner_and_not_posted(mailroom: Org) -> None:
    request = _filed(mailroom)
    before = len(messages(mailroom, request.id))
    subject = f"Re: [REQ-{request.id:05d}]"
    raw = compose(sender="Eve <eve@elsewhere.example>", subject=subject, body="Send it to me")
    receipt = receive(mailroom.spoc, raw)
    assert (receipt.outcome, receipt.request_id) == (MailOutcome.HELD, request.id)
    assert len(messages(mailroom, request.id)) == before
    notice = outbox(mailroom.spoc, "sam@example.org")[-1]
    assert notice.subject.endswith("A mail is waiting for you to accept")
    assert outbox(mailroom.spoc, "eve@elsewhere.example") == []


def test_the_requesters_address_failing_dmarc_is_held_too(mailroom: Org) -> None:
    request = _filed(mailroom)
    raw = compose(
        subject=f"Re: [REQ-{request.id:05d}]",
        body="Change my bank account",
        headers={
            "Authentication-Results": "mx.example.org; spf=fail smtp.mailfrom=example.com; "
            "dkim=none; dmarc=fail header.from=example.com"
        },
    )
    receipt = receive(mailroom.spoc, raw)
    assert receipt.outcome == MailOutcome.HELD
    assert inbound(mailroom.spoc)[-1].auth == {"spf": "fail", "dkim": "none", "dmarc": "fail"}


def test_the_same_mail_twice_lands_once(mailroom: Org) -> None:
    raw = compose(message_id="<again@client.example.com>")
    first = receive(mailroom.spoc, raw)
    second = receive(mailroom.spoc, raw)
    assert first.outcome == MailOutcome.FILED and not first.duplicate
    assert second.accepted and second.duplicate
    assert len(inbound(mailroom.spoc)) == 1
    assert len(outbox(mailroom.spoc, "maria@example.com")) == 1


def test_a_mail_without_message_id_is_deduplicated_by_its_bytes(mailroom: Org) -> None:
    raw = b"From: maria@example.com\r\nTo: help@example.org\r\nSubject: No id here\r\n\r\nHello\r\n"
    assert not receive(mailroom.spoc, raw).duplicate
    assert receive(mailroom.spoc, raw).duplicate
    assert inbound(mailroom.spoc)[0].dedupe_key.startswith("sha256:")


def test_a_reply_to_a_finished_request_files_a_new_one_that_names_it(mailroom: Org) -> None:
    request = _filed(mailroom)
    sam = mailroom.actor(mailroom.sam)
    mailroom.spoc.requests.transition(request.id, Status.CANCELLED, sam, reason="duplicate")
    receipt = receive(mailroom.spoc, compose(subject=f"Re: [REQ-{request.id:05d}]", body="Again"))
    assert receipt.outcome == MailOutcome.FILED and receipt.request_id != request.id
    new = mailroom.spoc.requests.get(receipt.request_id or 0, Actor.system())
    assert f"REQ-{request.id:05d}" in new.fields["details"]


def test_html_only_mail_is_read_as_text_and_kept_sanitised(mailroom: Org) -> None:
    html = (
        "<p>My <b>screen</b> is black.</p><script>alert(1)</script>"
        '<p><a href="javascript:alert(2)">click</a><img src=x onerror=alert(3)></p>'
    )
    receipt = receive(mailroom.spoc, compose(body="", html=html))
    request = mailroom.spoc.requests.get(receipt.request_id or 0, Actor.system())
    assert request.fields["details"] == "My screen is black.\nclick"
    kept = inbound(mailroom.spoc)[-1].html or ""
    assert "<b>screen</b>" in kept
    assert "script" not in kept and "javascript" not in kept and "onerror" not in kept


def test_mail_over_the_senders_hourly_limit_is_stored_not_filed(
    make_app, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    from spoc.core.services import spoc_of

    spoc = spoc_of(make_app(mail_from="help@example.org", mail_sender_limit=2))
    outcomes = [receive(spoc, compose(subject=f"Question {n}")).outcome for n in range(3)]
    assert outcomes == [MailOutcome.FILED, MailOutcome.FILED, MailOutcome.LIMITED]
    assert len(outbox(spoc, "maria@example.com")) == 2
    clock.advance(timedelta(hours=1, seconds=1))
    assert receive(spoc, compose(subject="Question 4")).outcome == MailOutcome.FILED


def test_the_requesters_cc_is_copied_and_may_answer_by_mail(mailroom: Org) -> None:
    request = _filed(mailroom)
    subject = f"Re: [REQ-{request.id:05d}]"
    copying = compose(
        subject=subject,
        body="Adding my colleague.",
        headers={"Cc": "Bob <bob@example.com>, help@example.org"},
    )
    assert receive(mailroom.spoc, copying).outcome == MailOutcome.THREADED
    relations = mailroom.spoc.requests.relations(request.id, Actor.system())
    assert [c.email for c in relations.ccs] == ["bob@example.com"]  # never our own address
    answer = compose(sender="Bob <bob@example.com>", subject=subject, body="Bob here: it is 4711.")
    assert receive(mailroom.spoc, answer).outcome == MailOutcome.THREADED
    assert messages(mailroom, request.id)[-1].body == "Bob here: it is 4711."
