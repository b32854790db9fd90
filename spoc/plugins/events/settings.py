"""The events plugin's settings: ``SPOC_EVENTS__<KEY>`` (JSON for maps)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from spoc import Priority, Spoc, TeamKey


class EventsSettings(BaseModel):
    """Teams, event-day SLA targets, trigger thresholds and retention; all have defaults."""

    model_config = ConfigDict(extra="forbid")

    # Who works what: the event's SPOC is its event manager (the subject's SPOC).
    operations_team: TeamKey = "event_operations"
    vendor_team: TeamKey = "vendor_management"
    safety_team: TeamKey = "event_safety"
    # Vendor requests whose cost is beyond the vendor's budget tolerance go to the organiser.
    organiser_team: TeamKey = "event_organisers"
    # Membership of this team is the accessibility coordinator role.
    accessibility_team: TeamKey = "accessibility"
    # Medical, safety and conduct incidents go to this person when the event names nobody.
    safety_lead_email: str | None = None
    # Event-day mode: while the event runs (in its own time zone) targets are minutes.
    event_day_first_response_minutes: dict[Priority, int] = Field(
        default_factory=lambda: {
            Priority.P1: 5,
            Priority.P2: 10,
            Priority.P3: 15,
            Priority.P4: 30,
        }
    )
    event_day_resolution_minutes: dict[Priority, int] = Field(
        default_factory=lambda: {
            Priority.P1: 30,
            Priority.P2: 60,
            Priority.P3: 120,
            Priority.P4: 240,
        }
    )
    # Vendor triggers.
    certificate_days_before: int = Field(default=14, ge=0)
    check_in_grace_minutes: int = Field(default=15, ge=0)
    # Accessibility: requests later than this before the event go to the coordinator at once.
    interpreter_lead_days: int = Field(default=14, ge=0)
    # Special-category answers are erased this many days after the event ends.
    retention_days: int = Field(default=30, ge=0)
    # Vendors see how many attendees need what per session; a count below this shows as
    # "fewer than N", so a rare need in a small session does not point at one person.
    vendor_count_minimum: int = Field(default=3, ge=1)
    # The vendor portal link lives until this many days after the event.
    vendor_link_days_after: int = Field(default=7, ge=0)
    # Live board: seconds between refreshes.
    board_refresh_seconds: int = Field(default=30, ge=5, le=600)


def settings_of(spoc: Spoc) -> EventsSettings:
    """The events settings of this app (validated at start-up)."""
    return spoc.plugin_settings("events", EventsSettings)


def is_coordinator(spoc: Spoc, agent_id: int | None) -> bool:
    """Whether the agent is the accessibility coordinator (a member of its team)."""
    return agent_id is not None and spoc.directory.in_team(
        agent_id, settings_of(spoc).accessibility_team
    )
