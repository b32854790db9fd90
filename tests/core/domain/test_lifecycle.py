"""The transition table: every pair of statuses, every kind of actor."""

from __future__ import annotations

import pytest

from spoc import Actor, IllegalTransition, PermissionDenied, Role, Status
from spoc.core.domain.lifecycle import allowed_targets, check_transition

AGENT = Actor.agent(1, Role.AGENT, "Dana")
ADMIN = Actor.agent(2, Role.ADMIN, "Ada")
SPECIALIST = Actor.agent(3, Role.SPECIALIST, "Kim")
VIEWER = Actor.agent(4, Role.VIEWER, "Val")
REQUESTER = Actor.requester(1, "Maria")
SYSTEM = Actor.system()

S = Status
EXPECTED = {
    # (actor, from): allowed targets
    ("agent", S.NEW): [S.OPEN, S.WAITING, S.CANCELLED],
    ("agent", S.OPEN): [S.WAITING, S.RESOLVED, S.CANCELLED],
    ("agent", S.WAITING): [S.OPEN, S.RESOLVED, S.CANCELLED],
    ("agent", S.RESOLVED): [S.OPEN, S.CLOSED],
    ("agent", S.CLOSED): [],
    ("agent", S.CANCELLED): [],
    ("requester", S.NEW): [S.CANCELLED],
    ("requester", S.OPEN): [S.CANCELLED],
    ("requester", S.WAITING): [S.OPEN, S.CANCELLED],
    ("requester", S.RESOLVED): [S.OPEN, S.CLOSED],
    ("system", S.RESOLVED): [S.CLOSED],
    # The system resolves what a plugin answered at once, even straight from new; it never
    # cancels, and people never get its housekeeping moves.
    ("system", S.NEW): [S.OPEN, S.RESOLVED],
    ("system", S.OPEN): [S.RESOLVED],
    ("system", S.WAITING): [S.OPEN, S.RESOLVED, S.CLOSED],
    ("specialist", S.OPEN): [],
    ("viewer", S.OPEN): [],
}
ACTORS = {
    "agent": AGENT,
    "requester": REQUESTER,
    "system": SYSTEM,
    "specialist": SPECIALIST,
    "viewer": VIEWER,
}


@pytest.mark.parametrize(("key", "targets"), EXPECTED.items(), ids=lambda v: str(v))
def test_allowed_targets_per_actor_and_status(key: tuple[str, Status], targets: list) -> None:
    actor, current = key
    assert allowed_targets(current, ACTORS[actor]) == targets


def test_admin_may_do_what_an_agent_may() -> None:
    for status in Status:
        assert allowed_targets(status, ADMIN) == allowed_targets(status, AGENT)


def test_illegal_transition_explains_what_is_possible() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(S.CLOSED, S.OPEN, AGENT)
    assert str(caught.value) == "a request cannot go from closed to open"
    with pytest.raises(IllegalTransition, match="allowed from new: open, waiting, cancelled"):
        check_transition(S.NEW, S.RESOLVED, AGENT)


def test_same_status_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already open"):
        check_transition(S.OPEN, S.OPEN, AGENT)


def test_forbidden_role_is_told_which_action() -> None:
    with pytest.raises(PermissionDenied, match="a viewer may not resolve a request"):
        check_transition(S.OPEN, S.RESOLVED, VIEWER)
