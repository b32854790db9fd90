"""A well-behaved test plugin: settings, classification, routing and event hooks.

Its behaviour is driven by its settings section so tests can steer it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select

from spoc import (
    EscalationCheck,
    Priority,
    Request,
    RequestEvent,
    RequestType,
    Routing,
    Spoc,
    SubjectInfo,
    hookimpl,
)

SEEN: list[tuple[str, str]] = []


class TuningSettings(BaseModel):
    flag_requests_with: str | None = None
    urgent_word: str = Field(default="flood", min_length=1)
    route_team: str | None = None
    route_order: int = 100
    fail_on_events: bool = False


def _settings(spoc: Spoc) -> TuningSettings:
    return spoc.plugin_settings("tuning", TuningSettings)


@hookimpl
def spoc_settings_model() -> type[BaseModel]:
    return TuningSettings


@hookimpl
def spoc_classify_request(
    request_type: RequestType, fields: BaseModel, subject: SubjectInfo | None, spoc: Spoc
) -> Priority | None:
    summary = str(getattr(fields, "summary", ""))
    return Priority.P1 if _settings(spoc).urgent_word in summary.lower() else None


@hookimpl
def spoc_route_request(proposed: Routing, spoc: Spoc) -> Routing | None:
    settings = _settings(spoc)
    if settings.route_team is None:
        return None
    return Routing(
        None,
        settings.route_team,
        f"tuning sends it to {settings.route_team}",
        order=settings.route_order,
    )


@hookimpl
def spoc_resolve_subject(reference: str, spoc: Spoc) -> int | None:
    # Order numbers like "ORD-<subject id>" belong to the subject with that id.
    if reference.startswith("ORD-") and reference[4:].isdigit():
        return int(reference[4:])
    return None


@hookimpl
def spoc_escalation_checks(spoc: Spoc, now: object, limit: int) -> list[EscalationCheck]:
    """Requests whose summary contains the flag word go to the "firefighters" team."""
    word = _settings(spoc).flag_requests_with
    if not word:
        return []
    with spoc.db.reader() as session:
        ids = session.scalars(
            select(Request.id)
            .where(Request.summary.contains(word))
            .order_by(Request.id)
            .limit(limit)
        )
        return [EscalationCheck(rid, "flagged", "firefighters", f"mentions {word}") for rid in ids]


@hookimpl
def spoc_request_event(event: RequestEvent, spoc: Spoc) -> None:
    if _settings(spoc).fail_on_events:
        raise RuntimeError("tuning plugin fails on purpose")
    SEEN.append((event.kind, event.reference))
