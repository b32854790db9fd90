"""A carrier's notice mail becomes a tracking event on its shipment, once, and files nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import FrozenClock
from spoc.core.domain.models import InboundMail, Request
from spoc.core.kernel.mail import MailOutcome
from spoc.plugins.logistics.models import TrackingEvent, TrackingStatus
from spoc.testing import AppFactory
from tests.core.domain.mail.mails import compose
from tests.plugins.logistics.conftest import ROAD, Tower, make_tower


@pytest.fixture
def mailed_tower(make_app: AppFactory, clock: FrozenClock) -> Tower:
    app: Flask = make_app(
        plugins=["generic", "logistics"],
        plugin_settings={"logistics": {"carrier_mail": {"notify.dhl.example": "DHL"}}},
    )
    return make_tower(app, clock)


def test_hook_inbound_mail_turns_a_carrier_notice_into_a_tracking_event(
    mailed_tower: Tower,
) -> None:
    spoc = mailed_tower.spoc
    raw = compose(
        sender="DHL <noticeboard@notify.dhl.example>",
        subject=f"Your parcel {ROAD} is out for delivery",
        body="Expected today between 10:00 and 14:00.",
        message_id="<notice-1@notify.dhl.example>",
    )
    for _ in range(2):  # delivered twice: one event
        receipt = spoc.mail.receive(raw, envelope_to=["spoc@localhost"], source="test")
    assert receipt.duplicate
    with spoc.db.reader() as session:
        [event] = session.scalars(select(TrackingEvent)).all()
        assert event.status == TrackingStatus.OUT_FOR_DELIVERY.value
        assert event.event_id == "mail:notice-1@notify.dhl.example"
        [row] = session.scalars(select(InboundMail)).all()
        assert row.outcome == MailOutcome.CLAIMED
        assert session.query(Request).count() == 0
    assert mailed_tower.shipment().status == TrackingStatus.OUT_FOR_DELIVERY.value


def test_a_notice_naming_no_known_shipment_is_kept_and_files_nothing(mailed_tower: Tower) -> None:
    spoc = mailed_tower.spoc
    raw = compose(sender="noticeboard@notify.dhl.example", subject="Parcel ZZ99999999 delivered")
    receipt = spoc.mail.receive(raw, envelope_to=["spoc@localhost"], source="test")
    assert receipt.outcome == MailOutcome.CLAIMED and "no known shipment" in receipt.reason
    with spoc.db.reader() as session:
        assert session.query(Request).count() == 0
        assert session.query(TrackingEvent).count() == 0
