"""Who is told what, when: the notification rules, listed once (docs and tests read them)."""

from __future__ import annotations

from dataclasses import dataclass

from spoc.core.kernel.types import Status


@dataclass(frozen=True)
class Rule:
    event: str
    audience: str  # requester | owner | team
    when: str
    headline: str


RULES: tuple[Rule, ...] = (
    Rule("created", "owner", "always", "New request for you"),
    Rule("message", "requester", "a public reply by staff", "You have a reply"),
    Rule(
        "message",
        "owner",
        "a reply by the requester, or a note by someone other than the owner",
        "New message",
    ),
    Rule(
        "status_changed",
        "requester",
        "to waiting, resolved, closed or cancelled, by someone else",
        "Your request is now: {label}",
    ),
    Rule("assigned", "owner", "reassigned after intake", "A request was assigned to you"),
    Rule("escalated", "team", "always", "A request was escalated to your team"),
    Rule("clock", "owner", "an SLA warning or breach", "{summary}"),
    Rule(
        "reminder",
        "requester",
        "waiting on the requester too long",
        "We are still waiting for your reply",
    ),
)
REQUESTER_STATUSES = {Status.WAITING, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
