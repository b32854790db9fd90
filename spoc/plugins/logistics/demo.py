"""Demo accounts, orders and shipments with realistic tracking histories — including a stale
shipment and an ETA slip that ``spoc logistics sweep`` turns into proactive requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from spoc import Actor, DemoContext
from spoc.plugins.logistics.forms import ACCOUNT
from spoc.plugins.logistics.ingest import TrackingEventIn, ingest
from spoc.plugins.logistics.models import TrackingStatus as S
from spoc.plugins.logistics.services import OrderIn, add_order, verify_contact

H = timedelta(hours=1)
D = timedelta(days=1)


def _event(
    n: str,
    carrier: str,
    number: str,
    at: datetime,
    status: S,
    city: str,
    country: str,
    **extra: Any,
) -> TrackingEventIn:
    return TrackingEventIn(
        event_id=f"demo-{n}",
        carrier=carrier,
        tracking_number=number,
        occurred_at=at,
        status=status,
        city=city,
        country=country,
        code_system=carrier,
        **extra,
    )


def add_demo_data(demo: DemoContext) -> None:
    spoc = demo.spoc
    now = spoc.clock.now()
    admin = Actor.system("demo")
    acme = demo.add_subject(
        ACCOUNT, "Acme Retail GmbH", spoc="dana", deputies=["lee"], external_ref="ACME"
    )
    globex = demo.add_subject(ACCOUNT, "Globex Foods BV", spoc="sam", external_ref="GLOBEX")
    verify_contact(spoc, admin, acme.id, "petra@acme.example", "call-back on the number on file")

    def order(number: str, account: int, name: str, email: str, **shipment: Any) -> None:
        add_order(
            spoc,
            admin,
            OrderIn.model_validate(
                {
                    "order_number": number,
                    "account_id": account,
                    "customer_name": name,
                    "customer_email": email,
                    "shipments": [shipment],
                }
            ),
        )

    # Delivered on time, with proof of delivery (only the verified account sees it).
    order(
        "PO-1001",
        acme.id,
        "Petra Weiss",
        "petra@acme.example",
        carrier="DHL",
        tracking_number="JD014600003828",
        mode="road",
        domestic=True,
        promised_by=now - D,
        origin_city="Hamburg",
        origin_country="DE",
        destination_city="Munich",
        destination_country="DE",
        destination_address="Acme Retail GmbH, Leopoldstr. 12, 80802 Munich",
        consignee_name="Acme Retail, goods-in",
    )
    # In transit, but the carrier has not scanned it for two days: stale.
    order(
        "PO-1002",
        acme.id,
        "Petra Weiss",
        "petra@acme.example",
        carrier="DHL",
        tracking_number="JD014600004711",
        mode="road",
        domestic=True,
        promised_by=now + D,
        origin_city="Cologne",
        origin_country="DE",
        destination_city="Berlin",
        destination_country="DE",
        destination_address="Acme Retail GmbH, Alexanderplatz 1, 10178 Berlin",
        consignee_name="Acme Berlin store",
    )
    # International air freight whose ETA slipped four days past the promise.
    order(
        "PO-2001",
        globex.id,
        "Jan de Vries",
        "jan@globex.example",
        carrier="Maersk",
        tracking_number="MAEU123456789",
        mode="air",
        domestic=False,
        promised_by=now + 2 * D,
        origin_city="Shanghai",
        origin_country="CN",
        destination_city="Rotterdam",
        destination_country="NL",
        destination_address="Globex Foods BV, Waalhaven 5, 3089 Rotterdam",
        consignee_name="Globex receiving",
    )
    events = [
        _event("1", "DHL", "JD014600003828", now - 3 * D, S.IN_TRANSIT, "Hamburg", "DE"),
        _event("2", "DHL", "JD014600003828", now - 2 * D, S.OUT_FOR_DELIVERY, "Munich", "DE"),
        _event(
            "3",
            "DHL",
            "JD014600003828",
            now - 2 * D + 4 * H,
            S.DELIVERED,
            "Munich",
            "DE",
            signed_by="K. Huber",
        ),
        _event("4", "DHL", "JD014600004711", now - 3 * D, S.IN_TRANSIT, "Cologne", "DE"),
        _event("5", "DHL", "JD014600004711", now - 2 * D, S.IN_TRANSIT, "Hanover", "DE"),
        _event("6", "Maersk", "MAEU123456789", now - 2 * D, S.IN_TRANSIT, "Shanghai", "CN"),
        _event(
            "7",
            "Maersk",
            "MAEU123456789",
            now - 6 * H,
            S.DELIVERY_DELAYED,
            "Dubai",
            "AE",
            reason_code="MISSED_CONNECTION",
            eta=now + 6 * D,
            description="Missed connecting flight",
        ),
    ]
    ingest(spoc, events)
    # A customer asks where an order is: answered at once from tracking.
    demo.requests.create(
        type_key="logistics.where_is_my_order",
        fields={"order_number": "PO-1001"},
        requester={"name": "Petra Weiss", "email": "petra@acme.example"},
        subject_id=acme.id,
    )
