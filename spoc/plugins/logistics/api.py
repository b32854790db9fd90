"""JSON endpoints under /api/v1/logistics: the tracking-event batch, orders, tracking."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, Field, ValidationError

from spoc import (
    Actor,
    ApiRoute,
    PermissionDenied,
    Role,
    ValidationFailed,
    api_agent,
    check_staff_access,
    spoc_of,
)
from spoc.plugins.logistics.ingest import TrackingEventIn, ingest
from spoc.plugins.logistics.models import Order
from spoc.plugins.logistics.services import OrderIn, add_order
from spoc.plugins.logistics.settings import settings_of
from spoc.plugins.logistics.tracking import ShipmentView, find_shipments, shipment_view

MAX_BATCH = 10_000  # the schema's ceiling; the setting max_batch (default 1000) applies


class EventBatch(BaseModel):
    events: list[TrackingEventIn] = Field(min_length=1, max_length=MAX_BATCH)


class RejectedEvent(BaseModel):
    index: int
    event_id: str
    reason: str


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[RejectedEvent]


class OrderCreated(BaseModel):
    id: int
    order_number: str


class TrackingResult(BaseModel):
    items: list[ShipmentView]


def _body(model: type[BaseModel]) -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "not an object"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = {
            ".".join(str(p) for p in ("body", *e["loc"])): e["msg"] for e in exc.errors()[:50]
        }
        raise ValidationFailed("the body has errors", errors) from None


def _writer() -> Actor:
    actor = api_agent()
    if actor.role not in (Role.ADMIN, Role.AGENT):
        raise PermissionDenied(f"a {actor.role_name} may not change logistics data")
    return actor


def post_events() -> dict[str, Any]:
    """POST /api/v1/logistics/events: a batch of carrier events, idempotent by event id."""
    _writer()
    spoc = spoc_of()
    settings = settings_of(spoc)
    batch: EventBatch = _body(EventBatch)
    if len(batch.events) > settings.max_batch:
        raise ValidationFailed(
            "the batch is too large", {"body.events": f"at most {settings.max_batch} events"}
        )
    report = ingest(spoc, batch.events)
    # Proactive requests are opened by the next sweep pass (spoc_sweep_tasks), not here: the
    # carrier's feed never waits for them, and one worker does it whatever the source.
    return IngestResult(
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=[RejectedEvent(**vars(r)) for r in report.rejected],
    ).model_dump()


def post_order() -> tuple[dict[str, Any], int]:
    """POST /api/v1/logistics/orders: an order with its shipments."""
    actor = _writer()
    order = add_order(spoc_of(), actor, _body(OrderIn))
    return OrderCreated(id=order.id, order_number=order.order_number).model_dump(), 201


def get_tracking(tracking_number: str) -> dict[str, Any]:
    """GET /api/v1/logistics/tracking/{tracking_number}. Agents and admins see everything,
    each read reported to ``spoc_staff_access`` (a break-glass reason travels in the
    SPOC-Access-Reason header); viewers and specialists see what a tracking-number holder
    sees — the consignee, the address and proof of delivery are not theirs to read."""
    actor = api_agent()
    full = actor.role in (Role.ADMIN, Role.AGENT)
    spoc = spoc_of()
    with spoc.db.reader() as session:
        shipments = find_shipments(session, tracking_number)
        accounts = {
            s.id: order.account_id
            for s in shipments
            if (order := session.get(Order, s.order_id)) is not None
        }
    if full:
        for account in sorted(set(accounts.values())):
            check_staff_access(
                actor,
                "subject",
                subject_id=account,
                channel="api",
                reason=request.headers.get("SPOC-Access-Reason"),
            )
    with spoc.db.reader() as session:
        views = [shipment_view(session, s, verified=full and s.id in accounts) for s in shipments]
    return TrackingResult(items=views).model_dump(mode="json")


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "POST",
            "/events",
            post_events,
            "Ingest a batch of carrier tracking events (idempotent by event id)",
            response=IngestResult,
            body=EventBatch,
        ),
        ApiRoute(
            "POST",
            "/orders",
            post_order,
            "Add an order with its shipments",
            response=OrderCreated,
            body=OrderIn,
            status=201,
        ),
        ApiRoute(
            "GET",
            "/tracking/{tracking_number}",
            get_tracking,
            "A shipment's status, ETA and event history",
            response=TrackingResult,
        ),
    ]
