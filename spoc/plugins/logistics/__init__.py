"""Logistics: a shipment control tower. Customer accounts have a SPOC (the account manager);
carrier tracking events drive proactive requests before the customer asks.

Hooks only; the work lives in the modules: ``ingest`` (events in), ``detect`` (proactive
exceptions and the sweep's checks), ``tracking`` (what a viewer may see), ``services``
(orders, identity, address changes, claims), ``api``, ``cli``, ``demo``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy import select

from spoc import (
    Actor,
    ActorKind,
    ApiRoute,
    ConsolePanel,
    DemoContext,
    EscalationCheck,
    KnowledgeArticle,
    Request,
    RequestEvent,
    RequestType,
    Routing,
    Spoc,
    Status,
    SubjectKind,
    hookimpl,
)
from spoc.plugins.logistics import forms
from spoc.plugins.logistics.detect import (
    escalation_checks,
    on_escalated,
    settings_of,
    spoc_voice,
)
from spoc.plugins.logistics.models import Claim, Order, Shipment
from spoc.plugins.logistics.settings import LogisticsSettings

NAME = "logistics"


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return LogisticsSettings


@hookimpl
def spoc_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [
        SubjectKind(
            forms.ACCOUNT,
            "Customer account",
            "A shipper or consignee organisation; its SPOC is the account manager.",
        )
    ]


@hookimpl
def spoc_request_types() -> list[RequestType]:
    # Team keys are settings, but request types are collected before settings are read at
    # start-up; the defaults name the teams, and routing/escalation read the live settings.
    defaults = LogisticsSettings()
    return forms.request_types(defaults.carrier_desk_team, defaults.claims_team)


@hookimpl
def spoc_knowledge_articles() -> list[KnowledgeArticle]:
    return [
        KnowledgeArticle(
            key="logistics.tracking_statuses",
            title="What the tracking statuses mean",
            summary="In transit, out for delivery, held, returned: what each means for you.",
            body=(
                "In transit: the carrier has the goods and is moving them.\n\n"
                "Out for delivery: it is on the van today. Ready for pickup: collect it at the "
                "named point.\n\n"
                "Delivery failed: nobody could receive it; the carrier tries again, and after "
                "two attempts we contact you before it goes back to the sender.\n\n"
                "On hold: often customs; we are told and act before you need to ask."
            ),
            request_types=(forms.WHERE_IS_MY_ORDER, forms.DELIVERY_EXCEPTION),
            keywords=("tracking", "status", "where", "delivery", "customs"),
            order=10,
        )
    ]


@hookimpl
def spoc_resolve_subject(reference: str, request_type: RequestType, spoc: Spoc) -> int | None:
    """An order number or a tracking number leads to the customer account."""
    if forms.ACCOUNT not in request_type.subject_kinds:
        return None
    with spoc.db.reader() as session:
        account = session.scalar(select(Order.account_id).where(Order.order_number == reference))
        if account is None:
            account = session.scalar(
                select(Order.account_id)
                .join(Shipment, Shipment.order_id == Order.id)
                .where(Shipment.tracking_number == reference)
                .limit(1)
            )
    return account


@hookimpl
def spoc_route_request(request_type: RequestType, fields: BaseModel, spoc: Spoc) -> Routing | None:
    if request_type.key == forms.INVENTORY and forms.short_of_stock(fields):
        return Routing(
            None,
            settings_of(spoc).buyer_team,
            "Available to promise is below the quantity asked for: the buyers decide",
            order=50,
        )
    return None


@hookimpl
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    if event.kind == "escalated":
        on_escalated(event, spoc)
        return
    if event.kind != "created":
        return
    if event.type_key == forms.WHERE_IS_MY_ORDER:
        _answer_from_tracking(event, spoc)
    elif event.type_key == forms.CLAIM:
        from spoc.plugins.logistics.services import open_claim

        request = spoc.requests.get(event.request_id, Actor.system())
        open_claim(spoc, event.request_id, forms.ClaimForm.model_validate(request.fields))
    elif event.type_key == forms.ADDRESS_CHANGE:
        _check_address_change(event, spoc)


def _answer_from_tracking(event: RequestEvent, spoc: Spoc) -> None:
    """Where is my order: answered at once from tracking, then resolved; the requester
    reopens it (the core's "it does not help") if the answer is not enough."""
    from spoc.plugins.logistics.tracking import where_is_my_order

    request = spoc.requests.get(event.request_id, Actor.system())
    fields = forms.WhereIsMyOrder.model_validate(request.fields)
    answer = where_is_my_order(spoc, fields.order_number, fields.tracking_number)
    if answer is None:
        return  # unknown order: the SPOC answers in person
    voice = spoc_voice(spoc, event.request_id)
    if voice.kind is not ActorKind.AGENT:
        return  # no SPOC to speak for (desk-owned): leave it to the desk
    spoc.requests.post_message(event.request_id, voice, answer.text)
    spoc.requests.transition(
        event.request_id, Status.RESOLVED, voice, reason="answered from tracking"
    )


def _check_address_change(event: RequestEvent, spoc: Spoc) -> None:
    from spoc.plugins.logistics.services import record_address_request

    record_address_request(spoc, event.request_id)


@hookimpl
def spoc_escalation_checks(spoc: Spoc, now: datetime, limit: int) -> Sequence[EscalationCheck]:
    return escalation_checks(spoc, now, limit)


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if not request.type_key.startswith(f"{NAME}."):
        return None
    from spoc.plugins.logistics.tracking import account_tracking, describe

    number = str(request.fields.get("tracking_number") or "")
    panels = []
    if number:
        views = account_tracking(spoc, number, None, staff=True)
        for view in views:
            extra = (
                f"\nConsignee: {view.consignee_name or '-'}\n"
                f"Address: {view.destination_address or '-'}\n"
                f"Proof of delivery: {view.proof_of_delivery or '-'}"
            )
            panels.append(
                ConsolePanel(
                    f"Shipment {view.tracking_number}",
                    Markup("<pre>{}</pre>").format(describe(view) + extra),
                    order=10,
                )
            )
    if request.type_key == forms.CLAIM:
        with spoc.db.reader() as session:
            claim = session.scalar(select(Claim).where(Claim.request_id == request.id))
        if claim is not None:
            if claim.deadline_at is None:
                text = f"{claim.kind} by {claim.mode}: no notice deadline ({claim.basis})."
            else:
                left = claim.deadline_at - spoc.clock.now()
                text = (
                    f"{claim.kind} by {claim.mode}: notice due {claim.deadline_at:%d %b %Y %H:%M}"
                    f" UTC ({left.days} days {left.seconds // 3600} h left; basis: {claim.basis})."
                )
            panels.append(ConsolePanel("Claim deadline", html.escape(text), order=5))
    return panels or None


@hookimpl
def spoc_cli_commands() -> list[click.Command]:
    from spoc.plugins.logistics.cli import logistics_cli

    return [logistics_cli]


@hookimpl
def spoc_api_routes() -> list[ApiRoute]:
    from spoc.plugins.logistics.api import routes

    return routes()


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    from spoc.plugins.logistics.demo import add_demo_data

    add_demo_data(demo)
