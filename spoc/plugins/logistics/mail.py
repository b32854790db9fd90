"""Carriers' notice mails become tracking events.

A mail from a domain in ``SPOC_LOGISTICS__CARRIER_MAIL`` (``{"notify.carrier.example":
"DHL"}``) naming the tracking number of one of that carrier's shipments is claimed: its status
is read from the words carriers use ("delivered", "out for delivery", "delayed", ...), and the
event lands through the same ingest as the API's, in the transaction that records the mail.
It is never filed as a request, also when it names no shipment we know."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import InboundMail, MailVerdict, Spoc
from spoc.plugins.logistics.ingest import TrackingEventIn, ingest_in
from spoc.plugins.logistics.models import Shipment, TrackingStatus
from spoc.plugins.logistics.settings import settings_of

CANDIDATE = re.compile(r"\b[A-Z0-9-]{6,40}\b")
# The first phrase found decides, most specific first.
PHRASES: tuple[tuple[str, TrackingStatus], ...] = (
    ("out for delivery", TrackingStatus.OUT_FOR_DELIVERY),
    ("ready for pickup", TrackingStatus.READY_FOR_PICKUP),
    ("ready for collection", TrackingStatus.READY_FOR_PICKUP),
    ("delivery attempt", TrackingStatus.DELIVERY_FAILED),
    ("could not be delivered", TrackingStatus.DELIVERY_FAILED),
    ("returned to sender", TrackingStatus.RETURN_TO_SENDER),
    ("delayed", TrackingStatus.DELIVERY_DELAYED),
    ("delay", TrackingStatus.DELIVERY_DELAYED),
    ("on hold", TrackingStatus.ON_HOLD),
    ("customs", TrackingStatus.ON_HOLD),
    ("delivered", TrackingStatus.DELIVERED),
    ("in transit", TrackingStatus.IN_TRANSIT),
    ("on its way", TrackingStatus.IN_TRANSIT),
)


def carrier_notice(mail: InboundMail, spoc: Spoc) -> MailVerdict | None:
    carrier = settings_of(spoc).carrier_mail.get(mail.sender.rpartition("@")[2])
    if carrier is None:
        return None
    words = f"{mail.subject}\n{mail.text}"
    candidates = set(CANDIDATE.findall(words.upper()))
    with spoc.db.reader() as session:
        found = (
            session.scalar(
                select(Shipment.tracking_number)
                .where(Shipment.carrier == carrier, Shipment.tracking_number.in_(candidates))
                .order_by(Shipment.id)
                .limit(1)
            )
            if candidates
            else None
        )
    if found is None:
        return MailVerdict.claim(lambda _session: None, f"a {carrier} notice for no known shipment")
    lowered = words.lower()
    status = next((s for phrase, s in PHRASES if phrase in lowered), TrackingStatus.UNKNOWN)
    event = TrackingEventIn(
        event_id=f"mail:{mail.message_id}"[:100],
        carrier=carrier,
        tracking_number=found,
        occurred_at=_sent_at(mail, spoc),
        status=status,
        description=mail.subject[:500],
        damage="damage" in lowered,
    )

    def land(session: Session) -> None:
        ingest_in(session, spoc.clock.now(), [event])

    return MailVerdict.claim(land, f"{carrier} {found}: {status.label}")


def _sent_at(mail: InboundMail, spoc: Spoc) -> datetime:
    try:
        sent = parsedate_to_datetime(mail.headers.get("Date", ""))
    except (TypeError, ValueError):
        return spoc.clock.now()
    return sent if sent.tzinfo is not None else spoc.clock.now()
