"""Assignment inside a team: round-robin and fewest-open, skipping the absent and the full;
escalations to the team assigned the same way; each choice with its reason."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from spoc import Actor, Role
from spoc.core.domain.models import Escalation
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from tests.conftest import Org


def _desk_of_three(org: Org) -> list[int]:
    d = org.spoc.directory
    extra = [
        d.add_agent(email=f"desk{n}@example.org", name=f"Desk {n}", role=Role.AGENT).id
        for n in range(2)
    ]
    members = [org.sam.id, *extra]
    d.set_team_members(org.actor(org.ada), org.desk.id, members)
    return members


def _triage(org: Org, n: int) -> int:
    return org.file(fields={"summary": f"Question {n}"}, subject_id=None)


def test_round_robin_across_three_with_one_away_spreads_and_never_picks_the_absent(
    org: Org,
) -> None:
    _, _, away = _desk_of_three(org)
    today = org.spoc.requests.today()
    org.spoc.directory.add_absence(away, today, today + timedelta(days=3))
    org.spoc.assignment.set_rule(org.actor(org.ada), org.desk.id, "round_robin")
    owners = Counter(
        org.spoc.requests.get(_triage(org, n), Actor.system()).owner_agent_id for n in range(9)
    )
    assert owners[away] == 0
    assert sorted(owners.values()) == [4, 5]  # 5/4/0: as fair as it gets with one away
    request_id = _triage(org, 99)
    [assigned] = [
        e for e in org.spoc.requests.timeline(request_id, Actor.system()) if e.kind == "assigned"
    ]
    assert "Round-robin in the Service desk" in assigned.summary
    assert "is away until" in assigned.summary


def test_least_open_picks_the_least_loaded_and_respects_the_cap(org: Org) -> None:
    a, b, c = _desk_of_three(org)
    spoc = org.spoc
    for _ in range(2):  # a has two open, b one, c none
        spoc.requests.assign(org.file(subject_id=None), Actor.system(), agent_id=a)
    spoc.requests.assign(org.file(subject_id=None), Actor.system(), agent_id=b)
    spoc.assignment.set_rule(org.actor(org.ada), org.desk.id, "least_open", cap=2)
    picks = [spoc.requests.get(_triage(org, n), Actor.system()).owner_agent_id for n in range(3)]
    assert picks == [c, b, c]  # then everyone is at the cap of two
    full = spoc.requests.get(_triage(org, 9), Actor.system())
    assert full.owner_agent_id is None and full.owner_team_id == org.desk.id


def test_an_escalation_to_a_team_with_a_rule_is_assigned_to_a_member(org: Org) -> None:
    spoc = org.spoc
    spoc.assignment.set_rule(org.actor(org.ada), org.specialists.id, "round_robin")
    request_id = org.file()
    spoc.escalations.escalate(request_id, org.actor(org.dana), team_key="specialists", reason="x")
    with spoc.db.reader() as session:
        [escalation] = session.query(Escalation).all()
        assert escalation.to_agent_id == org.kim.id
    kinds = [e.kind for e in spoc.requests.timeline(request_id, Actor.system())]
    assert "escalation_assigned" in kinds


def test_only_admins_set_a_rule_and_bad_values_name_the_field(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        org.spoc.assignment.set_rule(org.actor(org.dana), org.desk.id, "round_robin")
    with pytest.raises(ValidationFailed) as bad:
        org.spoc.assignment.set_rule(org.actor(org.ada), org.desk.id, "lottery")
    assert "assignment" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        org.spoc.assignment.set_rule(org.actor(org.ada), org.desk.id, "least_open", cap=0)
    assert "assignment_cap" in bad.value.errors
