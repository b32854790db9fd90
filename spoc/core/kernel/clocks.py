"""SLA clocks' kinds, states and events: the values the ``sla_clocks`` and
``sla_clock_events`` tables store, named once for the engine, the views and the plugins."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ClockKind(StrEnum):
    """What an SLA clock of a request measures. The first three are service levels people are
    held to; the others are the desk's own housekeeping timers."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    ESCALATION = "escalation"  # an escalation's answer time (OLA)
    AUTO_CLOSE = "auto_close"
    WAITING_REMINDER = "waiting_reminder"
    WAITING_CLOSE = "waiting_close"

    @property
    def is_housekeeping(self) -> bool:
        """A timer the desk keeps for itself (auto-close, reminders), not a service level."""
        return self in (ClockKind.AUTO_CLOSE, ClockKind.WAITING_REMINDER, ClockKind.WAITING_CLOSE)

    @property
    def label(self) -> str:
        return CLOCK_LABELS[self]


CLOCK_LABELS: Mapping[ClockKind, str] = {
    ClockKind.FIRST_RESPONSE: "First response",
    ClockKind.RESOLUTION: "Resolution",
    ClockKind.ESCALATION: "Escalation answer",
    ClockKind.AUTO_CLOSE: "Automatic close",
    ClockKind.WAITING_REMINDER: "Reminder to the requester",
    ClockKind.WAITING_CLOSE: "Close without reply",
}


class ClockState(StrEnum):
    """Where an SLA clock stands. ``running`` and ``paused`` clocks are pending; ``met`` and
    ``stopped`` ones are over (a met resolution clock runs again when the request reopens)."""

    RUNNING = "running"
    PAUSED = "paused"  # waiting on the requester: the deadline moves on by the time waited
    MET = "met"
    STOPPED = "stopped"

    @property
    def is_pending(self) -> bool:
        return self in (ClockState.RUNNING, ClockState.PAUSED)


class ClockEventKind(StrEnum):
    """What happened to an SLA clock, as its event log (``sla_clock_events``) records it."""

    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    RETARGETED = "retargeted"  # the priority changed, so did the target
    WARNED = "warned"
    BREACHED = "breached"
    MET = "met"
    STOPPED = "stopped"
