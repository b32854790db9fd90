"""Logistics: a shipment control tower. Customer accounts have a SPOC (the account manager);
carrier tracking events drive proactive requests before the customer asks.

Hooks only; the work lives in the modules: ``ingest`` (events in), ``detect`` (proactive
exceptions: the sweep's task), ``escalation`` (what the sweep escalates, on the core's
watches), ``tracking`` (what a viewer may see), ``views`` (the public tracking page, the
requester's panel), ``services`` (orders, identity, address changes, claims), ``api``,
``cli``, ``demo``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import click
from flask import Blueprint
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import (
    Actor,
    ApiRoute,
    ConsolePanel,
    DemoContext,
    InboundMail,
    KnowledgeArticle,
    MailVerdict,
    ReportFilter,
    ReportSection,
    Request,
    RequestEvent,
    RequestType,
    Routing,
    Spoc,
    Status,
    Structure,
    SubjectKind,
    Watch,
    WatchOutcome,
    hookimpl,
)
from spoc.plugins.logistics import escalation, forms, onboarding, report_section, services
from spoc.plugins.logistics.api import routes
from spoc.plugins.logistics.cli import logistics_cli
from spoc.plugins.logistics.detect import detect
from spoc.plugins.logistics.mail import carrier_notice
from spoc.plugins.logistics.models import Claim, Order, Shipment, VerifiedContact
from spoc.plugins.logistics.services import answer_address_request
from spoc.plugins.logistics.settings import LogisticsSettings, settings_of
from spoc.plugins.logistics.tracking import (
    account_tracking,
    describe,
    is_verified,
    order_by_number,
    proven_contact,
    where_is_my_order,
)
from spoc.plugins.logistics.views import bp, portal_panels

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
def spoc_structures() -> list[Structure]:
    """An account's verified contacts, items under the account."""
    return onboarding.structures()


@hookimpl
def spoc_request_types(settings_sections: Mapping[str, BaseModel]) -> list[RequestType]:
    section = settings_sections.get(NAME)
    settings = section if isinstance(section, LogisticsSettings) else LogisticsSettings()
    return forms.request_types(settings.carrier_desk_team, settings.claims_team)


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
def spoc_request_filed(request: Request, fields: BaseModel, session: Session, spoc: Spoc) -> None:
    """Rows that must exist with the request: a claim's deadline, an address change's audit."""
    if isinstance(fields, forms.ClaimForm):
        services.open_claim(spoc, session, request, fields)
    elif isinstance(fields, forms.AddressChangeForm):
        services.audit_address_request(spoc, session, request, fields)


@hookimpl
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    if event.kind != "created":
        return
    if event.type_key == forms.WHERE_IS_MY_ORDER:
        _answer_from_tracking(event, spoc)
    elif event.type_key == forms.ADDRESS_CHANGE:
        answer_address_request(spoc, event.request_id)


TRACKING = Actor.system("tracking")


def _answer_from_tracking(event: RequestEvent, spoc: Spoc) -> None:
    """Where is my order: answered at once from tracking by the system (mailed to the
    requester; it meets the first-response clock), then resolved; the requester reopens it
    (the core's "it does not help") if the answer is not enough."""
    request = spoc.requests.get(event.request_id, TRACKING)
    fields = forms.WhereIsMyOrder.model_validate(request.fields)
    # Verified only if the requester proved their email by magic link (filed while signed in)
    # and is a verified contact of the order's account: the typed email proves nothing.
    contact = proven_contact()
    with spoc.db.reader() as session:
        order = order_by_number(session, fields.order_number)
        verified = (
            order is not None
            and contact is not None
            and contact.id == request.contact_id
            and is_verified(session, order.account_id, contact.email)
        )
    answer = where_is_my_order(spoc, fields.order_number, fields.tracking_number, verified=verified)
    if answer is None:
        return  # unknown order, or nothing shipped yet: the SPOC answers in person
    spoc.requests.post_message(event.request_id, TRACKING, answer.text)
    spoc.requests.transition(
        event.request_id, Status.RESOLVED, TRACKING, reason="answered from tracking"
    )


@hookimpl
def spoc_sweep_tasks(spoc: Spoc, limit: int) -> int:
    """Open the proactive requests that are due, resolve those a delivery settled: every
    ``spoc sweep`` / ``spoc worker`` pass, before the sweep fires the watches that escalate
    them."""
    return detect(spoc, min(limit, settings_of(spoc).detect_batch)).done


@hookimpl
def spoc_watch_due(watch: Watch, session: Session, spoc: Spoc, now: datetime) -> WatchOutcome:
    return escalation.on_watch_due(spoc, watch, session, now)


@hookimpl
def spoc_inbound_mail(mail: InboundMail, spoc: Spoc) -> MailVerdict | None:
    return carrier_notice(mail, spoc)


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if not request.type_key.startswith(f"{NAME}."):
        return None
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
def spoc_portal_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if not request.type_key.startswith(f"{NAME}."):
        return None
    return portal_panels(request, spoc)


@hookimpl
def spoc_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def spoc_cli_commands() -> list[click.Command]:
    return [logistics_cli]


@hookimpl
def spoc_api_routes() -> list[ApiRoute]:
    return routes()


@hookimpl
def spoc_demo_data(demo: DemoContext) -> None:
    # Imported here to keep start-up light: only `spoc demo` needs the demo data.
    from spoc.plugins.logistics.demo import add_demo_data

    add_demo_data(demo)


@hookimpl
def spoc_contact_subjects(email: str, kinds: Sequence[str], spoc: Spoc) -> list[int]:
    """A signed-in requester's customer accounts: where the SPOC verified them, or where an
    order names them as the customer's contact."""
    if kinds and forms.ACCOUNT not in kinds:
        return []
    with spoc.db.reader() as session:
        verified = session.scalars(
            select(VerifiedContact.account_id).where(VerifiedContact.email == email).limit(20)
        ).all()
        ordered = session.scalars(
            select(Order.account_id).where(Order.customer_email == email).distinct().limit(20)
        ).all()
    return [*verified, *ordered]


@hookimpl
def spoc_report_sections(report_filter: ReportFilter, session: Session) -> list[ReportSection]:
    return report_section.sections(report_filter, session)
