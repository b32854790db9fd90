"""Timeline events: how they are appended, and how replaying them rebuilds a request's state.

The columns on ``requests`` are a projection of the timeline. :func:`replay` is the proof:
folding the events of a request must give exactly its current state (tests check this after
random sequences of actions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from spoc.core.domain.models import TimelineEvent
from spoc.core.kernel.types import Priority, Status

EVENT_KINDS = (
    "created",
    "status_changed",
    "message",
    "assigned",
    "priority_changed",
    "subject_linked",
    "escalated",
    "handed_back",
    "feedback",
    "clock",
    "reminder",
    "reference_claimed",
)


@dataclass(frozen=True)
class ReplayedState:
    status: Status
    priority: Priority
    owner_agent_id: int | None
    owner_team_id: int | None
    subject_id: int | None
    escalation_level: int
    open_escalations: tuple[int, ...] = ()


def _apply(state: ReplayedState | None, kind: str, data: dict[str, Any]) -> ReplayedState:
    if kind == "created":
        return ReplayedState(
            status=Status(data["status"]),
            priority=Priority(data["priority"]),
            owner_agent_id=data.get("owner_agent_id"),
            owner_team_id=data.get("owner_team_id"),
            subject_id=data.get("subject_id"),
            escalation_level=0,
        )
    if state is None:
        raise ValueError(f"timeline starts with {kind!r} instead of 'created'")
    if kind == "status_changed":
        if Status(data["from"]) is not state.status:
            raise ValueError(f"status_changed from {data['from']} but state is {state.status}")
        return replace(state, status=Status(data["to"]))
    if kind == "assigned":
        return replace(
            state,
            owner_agent_id=data.get("to_agent_id"),
            owner_team_id=data.get("to_team_id"),
        )
    if kind == "priority_changed":
        return replace(state, priority=Priority(data["to"]))
    if kind == "subject_linked":
        return replace(state, subject_id=data["subject_id"])
    if kind == "escalated":
        return replace(
            state,
            escalation_level=data["level"],
            open_escalations=(*state.open_escalations, data["escalation_id"]),
        )
    if kind == "handed_back":
        remaining = tuple(e for e in state.open_escalations if e != data["escalation_id"])
        return replace(state, escalation_level=data["level"], open_escalations=remaining)
    if kind in ("message", "feedback", "clock", "reminder", "reference_claimed"):
        return state
    raise ValueError(f"unknown timeline event kind {kind!r}")


def replay(events: Iterable[TimelineEvent]) -> ReplayedState:
    """Fold a request's events (in ``seq`` order) into its state."""
    state: ReplayedState | None = None
    for event in sorted(events, key=lambda e: e.seq):
        state = _apply(state, event.kind, dict(event.data))
    if state is None:
        raise ValueError("a request's timeline is empty")
    return state
