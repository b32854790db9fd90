"""Health details do not travel by mail: the plugin refuses the mail channel for its types."""

from __future__ import annotations

from spoc.core.domain.models import InboundMail, Message, OutboxMessage
from spoc.core.kernel.mail import MailOutcome
from tests.core.domain.mail.mails import compose
from tests.plugins.healthcare.conftest import Hospital


def test_hook_inbound_mail_refuses_a_reply_to_a_patients_request_and_keeps_nothing(
    hospital: Hospital,
) -> None:
    spoc = hospital.spoc
    booked = hospital.book()
    raw = compose(
        subject=f"Re: [REQ-{booked.id:05d}] There is an update on your request",
        body="My chest pain is worse since yesterday; I take warfarin.",
    )
    receipt = spoc.mail.receive(raw, envelope_to=["spoc@localhost"], source="test")
    assert receipt.accepted and receipt.outcome == MailOutcome.REFUSED
    with spoc.db.reader() as session:
        [row] = session.query(InboundMail).all()
        assert row.raw is None and row.text is None and row.subject == ""
        assert session.query(Message).filter(Message.request_id == booked.id).count() == 0
        mails = session.query(OutboxMessage).filter(OutboxMessage.channel == "email").all()
    to_patient = [m for m in mails if m.recipient == "maria@example.com"]
    assert [m.subject for m in to_patient] == [
        f"[REQ-{booked.id:05d}] Your mail could not be taken"
    ]
    assert "we do not take health details by email" in to_patient[0].body_text
    assert "chest pain" not in to_patient[0].body_text
    to_owner = [m for m in mails if m.recipient == "dana@example.org"]
    assert to_owner[-1].subject.endswith("A mail came for this request")
    for mail in mails:
        assert "chest pain" not in mail.body_text and "warfarin" not in mail.body_text


def test_a_new_mail_to_a_clinic_address_files_nothing(make_app) -> None:  # type: ignore[no-untyped-def]
    from spoc.core.services import spoc_of

    spoc = spoc_of(
        make_app(
            plugins=["generic", "healthcare"],
            mail_addresses="clinic@example.org=healthcare.appointment",
        )
    )
    raw = compose(to="clinic@example.org", body="I need a new appointment for my diabetes.")
    receipt = spoc.mail.receive(raw, envelope_to=["clinic@example.org"], source="test")
    assert receipt.outcome == MailOutcome.REFUSED and receipt.request_id is None
