"""Facilities desk: buildings have a SPOC (the site manager); repairs become work orders."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import BaseModel, ConfigDict, Field

from spoc import (
    ApiRoute,
    BusinessDays,
    BusinessHours,
    ConsolePanel,
    Priority,
    Request,
    RequestEvent,
    RequestType,
    Routing,
    SlaPolicy,
    Spoc,
    SubjectInfo,
    SubjectKind,
    TeamKey,
    api_agent,
    hookimpl,
    spoc_of,
)
from spoc_facilities.models import WorkOrder, open_work_orders, work_order_for

NAME = "facilities"
BUILDING = "facilities.building"
REPAIR = "facilities.repair"


class FacilitiesSettings(BaseModel):
    """``SPOC_FACILITIES__SAFETY_TEAM=...``, ``SPOC_FACILITIES__CRITICAL_PRIORITY=P2``."""

    model_config = ConfigDict(extra="forbid")

    safety_team: TeamKey = "safety"
    critical_priority: Priority = Priority.P2


class Repair(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    summary: str = Field(min_length=3, max_length=200, description="What needs fixing")
    location: str = Field(min_length=1, max_length=200, description="Floor and room")
    hazard: bool = Field(default=False, description="Is anyone at risk (water, electricity, gas)?")


def _settings(spoc: Spoc) -> FacilitiesSettings:
    return spoc.plugin_settings(NAME, FacilitiesSettings)


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return FacilitiesSettings


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [SubjectKind(BUILDING, "Building", "A site whose manager is its SPOC.")]


@hookimpl
def spoc_request_types() -> list[RequestType]:
    return [
        RequestType(
            key=REPAIR,
            title="Report a repair",
            description="Something in a building is broken or unsafe.",
            fields_model=Repair,
            group="Facilities",
            subject_kinds=(BUILDING,),
            default_priority=Priority.P3,
            priority_rule=lambda f: Priority.P1 if isinstance(f, Repair) and f.hazard else None,
            # A hazard needs someone on site within the hour, round the clock.
            sla=SlaPolicy(
                first_response={
                    Priority.P1: BusinessHours(minutes=15),
                    Priority.P3: BusinessHours(4),
                },
                resolution={Priority.P1: BusinessHours(1), Priority.P3: BusinessDays(3)},
                calendar="always_open",
            ),
        )
    ]


@hookimpl
def spoc_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def spoc_classify_request(subject: SubjectInfo | None, spoc: Spoc) -> Priority | None:
    # Any request about a critical site (a hospital wing, a data centre) is at least P2.
    if subject is not None and subject.kind == BUILDING and subject.attributes.get("critical"):
        return _settings(spoc).critical_priority
    return None


@hookimpl
def spoc_route_request(request_type: RequestType, fields: BaseModel, spoc: Spoc) -> Routing | None:
    if request_type.key == REPAIR and isinstance(fields, Repair) and fields.hazard:
        return Routing(
            None, _settings(spoc).safety_team, "Hazards go straight to the safety team", order=10
        )
    return None


@hookimpl
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    if event.kind != "created" or event.type_key != REPAIR:
        return
    with spoc.db.transaction() as session:
        session.add(
            WorkOrder(request_id=event.request_id, reference=event.reference, opened_at=event.at)
        )


@hookimpl
def spoc_console_panels(request: Request, spoc: Spoc) -> list[ConsolePanel] | None:
    if request.type_key != REPAIR:
        return None
    with spoc.db.reader() as session:
        order = work_order_for(session, request.id)
    if order is None:
        return [ConsolePanel("Work order", "Not opened yet.")]
    state = "closed" if order.closed_at else "open"
    return [
        ConsolePanel(
            "Work order", f"WO-{order.id:04d} is {state} since {order.opened_at:%d %b %H:%M} UTC."
        )
    ]


@click.group(name=NAME)
def facilities_cli() -> None:
    """Facilities desk."""


@facilities_cli.command("work-orders")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
def work_orders(limit: int) -> None:
    """List the newest open work orders."""
    spoc = spoc_of()
    with spoc.db.reader() as session:
        rows = open_work_orders(session, limit)
    if not rows:
        click.echo("No open work orders.")
    for order in rows:
        click.echo(
            f"WO-{order.id:04d}  {order.reference}  opened {order.opened_at:%Y-%m-%d %H:%M}Z"
        )


@hookimpl
def spoc_cli_commands() -> list[click.Command]:
    return [facilities_cli]


class WorkOrderOut(BaseModel):
    id: int
    reference: str
    opened_at: str


class WorkOrderList(BaseModel):
    items: list[WorkOrderOut]


def api_work_orders() -> dict[str, object]:
    """GET /api/v1/facilities/work-orders: the newest open work orders."""
    api_agent()
    with spoc_of().db.reader() as session:
        rows = open_work_orders(session, 50)
    items = [
        WorkOrderOut(id=o.id, reference=o.reference, opened_at=o.opened_at.isoformat())
        for o in rows
    ]
    return WorkOrderList(items=items).model_dump()


@hookimpl
def spoc_api_routes() -> list[ApiRoute]:
    return [
        ApiRoute("GET", "/work-orders", api_work_orders, "Open work orders", response=WorkOrderList)
    ]
