"""The logistics section of the Reports page: exceptions by carrier and cause, what the
control tower found before the customer did, and claims answered within their deadlines."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc import Cell, Figure, Headline, ReportFacts, ReportFilter, ReportSection, ReportTable
from spoc.plugins.logistics.forms import (
    ADDRESS_CHANGE,
    CLAIM,
    DELIVERY_EXCEPTION,
    INVENTORY,
    RETURN,
    WHERE_IS_MY_ORDER,
)
from spoc.plugins.logistics.models import Shipment, ShipmentException

TRIGGERS = "plugin:logistics:"


def sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    types = [WHERE_IS_MY_ORDER, DELIVERY_EXCEPTION, CLAIM, INVENTORY, ADDRESS_CHANGE, RETURN]
    facts = ReportFacts(session, report_filter)
    # The exception requests filed in the period, joined by their unique request id.
    ids = facts.filed_ids([DELIVERY_EXCEPTION])
    by_carrier = (
        session.execute(
            select(Shipment.carrier, ShipmentException.cause, func.count())
            .join(Shipment, Shipment.id == ShipmentException.shipment_id)
            .where(ShipmentException.request_id.in_(ids))
            .group_by(Shipment.carrier, ShipmentException.cause)
            .order_by(func.count().desc(), Shipment.carrier, ShipmentException.cause)
        ).all()
        if ids
        else []
    )
    rows: list[list[Cell]] = [
        [carrier, cause.replace("_", " "), Figure.count(int(n))] for carrier, cause, n in by_carrier
    ]
    claim_time, claims_in_time = facts.resolution([CLAIM])
    late = dict(facts.escalations_by_trigger(TRIGGERS)).get("claim_deadline", Figure.count(0))
    return [
        ReportSection(
            "shipments",
            "Logistics",
            (
                Headline("Found by the control tower", facts.filed(types, proactive=True)),
                Headline("Reported by customers", facts.filed(types, proactive=False)),
                Headline("Claims resolved within target", claims_in_time),
                Headline("Claims: median time to resolve", claim_time),
                Headline("Claims escalated at their deadline", late),
            ),
            (
                ReportTable(
                    "exceptions-by-carrier",
                    "Exceptions by carrier and cause",
                    ("Carrier", "Cause", "Exceptions"),
                    rows,
                    text="Delivery exceptions opened in the period, by carrier and cause.",
                ),
            ),
        )
    ]
