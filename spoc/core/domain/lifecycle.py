"""The request lifecycle: which status changes exist, and who may make them.

This table is the single source of truth; the service layer consults it for every status
change, the console uses it to show only the actions allowed now (``allowed_targets``).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from spoc.core.kernel.errors import IllegalTransition, PermissionDenied
from spoc.core.kernel.types import Actor, Status

STAFF_ACTORS = frozenset({"admin", "agent"})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status
    actors: frozenset[str]
    name: str


def _t(sources: set[Status], target: Status, actors: AbstractSet[str], name: str) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors), name)


TRANSITIONS: tuple[Transition, ...] = (
    _t(
        {Status.NEW, Status.WAITING},
        Status.OPEN,
        STAFF_ACTORS | {"requester", "system"},
        "work on it",
    ),
    _t({Status.RESOLVED}, Status.OPEN, STAFF_ACTORS | {"requester"}, "reopen"),
    _t({Status.NEW, Status.OPEN}, Status.WAITING, STAFF_ACTORS, "wait for requester"),
    _t({Status.OPEN, Status.WAITING}, Status.RESOLVED, STAFF_ACTORS, "resolve"),
    # The system resolves what a plugin answered at once (where is my order: the tracking),
    # also straight from new.
    _t({Status.NEW, Status.OPEN, Status.WAITING}, Status.RESOLVED, {"system"}, "answer"),
    _t({Status.RESOLVED}, Status.CLOSED, STAFF_ACTORS | {"requester", "system"}, "close"),
    # Housekeeping: a request that waited on its requester too long, after a reminder.
    _t({Status.WAITING}, Status.CLOSED, {"system"}, "close unanswered"),
    _t(
        {Status.NEW, Status.OPEN, Status.WAITING},
        Status.CANCELLED,
        STAFF_ACTORS | {"requester"},
        "cancel",
    ),
)


def find_transition(current: Status, target: Status, role: str | None = None) -> Transition | None:
    """The transition from ``current`` to ``target`` — the one open to ``role`` when several
    lead there (staff *resolve*, the system *answers*)."""
    matching = [t for t in TRANSITIONS if t.target is target and current in t.sources]
    for transition in matching:
        if role is None or role in transition.actors:
            return transition
    return matching[0] if matching else None


def check_transition(current: Status, target: Status, actor: Actor) -> Transition:
    """Return the transition if ``actor`` may move a request from ``current`` to ``target``."""
    if current is target:
        raise IllegalTransition(f"the request is already {current.value}")
    role = actor.role_name
    transition = find_transition(current, target, role)
    if transition is not None and role != "system" and transition.actors == {"system"}:
        transition = None  # the system's own moves are not on offer to people
    if transition is None:
        raise IllegalTransition(
            f"a request cannot go from {current.value} to {target.value}"
            + (f"; allowed from {current.value}: {_list(current)}" if _list(current) else "")
        )
    # Only staff take a new request into work; a requester's reply re-opens a waiting one.
    if role not in transition.actors or (
        role == "requester" and current is Status.NEW and target is Status.OPEN
    ):
        raise PermissionDenied(
            f"a {role} may not {transition.name} a request ({current.value} -> {target.value})"
        )
    return transition


def allowed_targets(current: Status, actor: Actor) -> list[Status]:
    """Statuses ``actor`` may move a request to from ``current``, in lifecycle order."""
    targets = []
    for status in Status:
        try:
            check_transition(current, status, actor)
        except (IllegalTransition, PermissionDenied):
            continue
        targets.append(status)
    return targets


def _list(current: Status) -> str:
    targets = [
        t.target.value for t in TRANSITIONS if current in t.sources and t.actors != {"system"}
    ]
    return ", ".join(dict.fromkeys(targets))
