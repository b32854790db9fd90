from __future__ import annotations

import pytest

from spoc import Actor, IllegalTransition, PermissionDenied, Status, ValidationFailed
from tests.conftest import Org


def test_escalating_keeps_the_owner_and_raises_the_level(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    escalation = org.spoc.escalations.escalate(
        rid, dana, team_key="specialists", reason="Needs a billing specialist"
    )
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.owner_agent_id, request.escalation_level) == (org.dana.id, 1)
    assert (escalation.level, escalation.trigger, escalation.to_team_id) == (
        1,
        "manual",
        org.specialists.id,
    )
    event = org.spoc.requests.timeline(rid, Actor.system())[-1]
    assert event.kind == "escalated"
    assert event.summary == (
        "Escalated to Specialist support (level 1, specialist team): Needs a billing specialist"
    )
    # The requester does not see internal escalation records.
    assert "escalated" not in [e.kind for e in org.spoc.requests.timeline(rid, org.requester(rid))]


def test_second_escalation_reaches_authority_and_no_further(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.escalations.escalate(rid, dana, team_key="specialists", reason="first")
    second = org.spoc.escalations.escalate(rid, dana, team_key="desk", reason="still stuck")
    assert second.level == 2
    with pytest.raises(IllegalTransition, match="highest escalation level"):
        org.spoc.escalations.escalate(rid, dana, team_key="desk", reason="again")


def test_specialist_of_the_team_hands_back_and_level_drops(org: Org) -> None:
    rid = org.file()
    dana, kim = org.actor(org.dana), org.actor(org.kim)
    org.spoc.escalations.escalate(rid, dana, team_key="specialists", reason="first")
    org.spoc.requests.post_message(rid, kim, "Fixed the ledger entry.", internal=True)
    escalation = org.spoc.escalations.hand_back(rid, kim, note="done")
    assert escalation.handed_back_by_agent_id == org.kim.id
    assert org.spoc.requests.get(rid, Actor.system()).escalation_level == 0
    with pytest.raises(IllegalTransition, match="no open escalation"):
        org.spoc.escalations.hand_back(rid, dana)


def test_specialist_outside_the_team_cannot_hand_back(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.escalations.escalate(rid, dana, team_key="specialists", reason="first")
    org.spoc.escalations.escalate(rid, dana, team_key="desk", reason="second")
    # Kim can see the request (escalated to her team) but level 2 belongs to the desk.
    with pytest.raises(PermissionDenied):
        org.spoc.escalations.hand_back(rid, org.actor(org.kim))
    assert org.spoc.requests.get(rid, Actor.system()).escalation_level == 2


def test_escalation_needs_a_reason_a_known_team_and_staff(org: Org) -> None:
    rid = org.file()
    with pytest.raises(ValidationFailed):
        org.spoc.escalations.escalate(rid, org.actor(org.dana), team_key="specialists", reason="")
    with pytest.raises(ValidationFailed, match="no team 'nope'"):
        org.spoc.escalations.escalate(rid, org.actor(org.dana), team_key="nope", reason="x")
    with pytest.raises(PermissionDenied):
        org.spoc.escalations.escalate(rid, org.actor(org.val), team_key="specialists", reason="x")
    with pytest.raises(PermissionDenied, match="automatic trigger"):
        org.spoc.escalations.escalate(
            rid, org.actor(org.dana), team_key="specialists", reason="x", trigger="sla"
        )
    assert org.spoc.requests.get(rid, Actor.system()).version == 1


def test_system_escalates_with_an_automatic_trigger(org: Org) -> None:
    rid = org.file()
    escalation = org.spoc.escalations.escalate(
        rid, Actor.system(), team_key="specialists", reason="resolution breached", trigger="sla"
    )
    assert escalation.trigger == "sla"
    assert escalation.from_agent_id is None


def test_closing_a_request_closes_its_open_escalations(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.escalations.escalate(rid, dana, team_key="specialists", reason="first")
    org.spoc.requests.transition(rid, Status.CANCELLED, org.requester(rid))
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.escalation_level == 0
    kinds = [e.kind for e in org.spoc.requests.timeline(rid, Actor.system())]
    assert kinds[-2:] == ["status_changed", "handed_back"]
