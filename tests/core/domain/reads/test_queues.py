"""The queues staff work from: one definition for console and API, the reader's visibility
applied once."""

from __future__ import annotations

import pytest

from spoc import Actor, CursorRejected, NotFoundError, PermissionDenied
from spoc.core.domain.reads.queues import ACTIVE, QUEUES, RequestFilter
from tests.conftest import Org


def _refs(org: Org, actor: Actor, name: str, **filters: object) -> list[int]:
    page = org.spoc.queues.page(actor, name, RequestFilter(**filters), limit=100)  # type: ignore[arg-type]
    return [r.id for r in page.items]


def test_each_queue_holds_its_requests_next_deadline_first(org: Org) -> None:
    system = Actor.system()
    unowned = org.file(subject_id=None)  # no subject: the desk triages it
    owned = org.file()
    org.spoc.requests.assign(owned, system, agent_id=org.dana.id)
    covered = org.file()
    org.spoc.requests.assign(covered, system, agent_id=org.lee.id)
    escalated = org.file()
    org.spoc.escalations.escalate(escalated, system, team_key="specialists", reason="help")
    urgent = org.file(
        type_key="generic.incident",
        fields={"summary": "Down", "description": "d", "impact": "high", "urgency": "high"},
    )
    org.spoc.requests.assign(urgent, system, agent_id=org.dana.id)
    dana, lee, kim = org.actor(org.dana), org.actor(org.lee), org.actor(org.kim)
    assert _refs(org, dana, "mine")[0] == urgent  # the earliest deadline first
    assert set(_refs(org, dana, "mine")) >= {owned, urgent}
    assert covered in _refs(org, lee, "covering") and covered not in _refs(org, dana, "covering")
    assert _refs(org, kim, "escalations") == [escalated]
    assert unowned in _refs(org, org.actor(org.sam), "triage")
    everything = _refs(org, org.actor(org.ada), "all")
    assert set(everything) == {unowned, owned, covered, escalated, urgent}
    assert _refs(org, org.actor(org.ada), "all", request_id=owned) == [owned]
    assert _refs(org, org.actor(org.ada), "all", contact_email="MARIA@example.com") == everything
    assert _refs(org, org.actor(org.ada), "all", statuses=ACTIVE) == everything


def test_a_queue_is_for_the_roles_it_names(org: Org) -> None:
    for queue in QUEUES:
        for agent in (org.dana, org.kim, org.val, org.ada):
            actor = org.actor(agent)
            if actor.role in queue.roles:
                org.spoc.queues.page(actor, queue.name)
                continue
            with pytest.raises(PermissionDenied, match=queue.name):
                org.spoc.queues.page(actor, queue.name)
    with pytest.raises(PermissionDenied):
        org.spoc.queues.page(Actor.system(), "all")  # a queue is a reader's, never nobody's
    with pytest.raises(NotFoundError, match="nope"):
        org.spoc.queues.page(org.actor(org.ada), "nope")
    tabs = [q.name for q in org.spoc.queues.available(org.actor(org.kim))]
    assert tabs == ["mine", "escalations"]
    api = [q.name for q in org.spoc.queues.available(org.actor(org.dana), console=False)]
    assert api == ["mine", "covering", "escalations", "triage", "visible"]


def test_a_specialist_gets_only_what_they_may_open(org: Org) -> None:
    system = Actor.system()
    theirs = org.file()
    org.spoc.escalations.escalate(theirs, system, team_key="specialists", reason="help")
    handed_back = org.file()
    org.spoc.escalations.escalate(handed_back, system, team_key="specialists", reason="help")
    org.spoc.escalations.hand_back(handed_back, org.actor(org.kim), note="done")
    org.file()  # not theirs
    kim = org.actor(org.kim)
    assert _refs(org, kim, "escalations") == [theirs]  # open escalations only
    assert _refs(org, kim, "mine") == []


def test_a_cursor_of_one_queue_is_refused_by_another(org: Org) -> None:
    for _ in range(3):
        org.spoc.requests.assign(org.file(), Actor.system(), agent_id=org.ada.id)
    ada = org.actor(org.ada)
    first = org.spoc.queues.page(ada, "mine", limit=1)
    assert first.next is not None
    again = org.spoc.queues.page(ada, "mine", limit=1, cursor=first.next)
    assert again.items and again.items[0].id != first.items[0].id
    with pytest.raises(CursorRejected, match="another list") as refused:
        org.spoc.queues.page(ada, "all", limit=1, cursor=first.next, field="after")
    assert refused.value.errors == {"after": "belongs to another list"}
