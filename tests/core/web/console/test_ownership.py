"""Ownership on the request page: take it (also with the first reply), assign to me, resolve;
the type's team first; no stranger preselected; hand back offered to the team only; routing
credited to the system."""

from __future__ import annotations

from flask import Flask

from spoc import Actor, Status
from spoc.core.kernel.types import ActorKind
from tests.conftest import Org, csrf_token, login


def _filed_to_triage(org: Org) -> tuple[int, str]:
    request, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Where is my parcel?"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
    )
    return request.id, token


def test_taking_a_triage_request_with_the_first_reply_names_the_new_spoc(
    app: Flask, org: Org
) -> None:
    request_id, link = _filed_to_triage(org)
    requester = app.test_client()
    assert "The Service desk" in requester.get(f"/track/{link}").get_data(as_text=True)
    sam = app.test_client()
    login(sam, org.spoc, org.sam)
    page = sam.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert 'name="take" value="1" checked' in page and "Take it" in page
    token = csrf_token(sam, f"/console/requests/{request_id}")
    sam.post(
        f"/console/requests/{request_id}/reply",
        data={"csrf_token": token, "body": "On its way.", "take": "1"},
    )
    request = org.spoc.requests.get(request_id, Actor.system())
    assert request.owner_agent_id == org.sam.id
    tracking = requester.get(f"/track/{link}").get_data(as_text=True)
    assert "Sam Patel" in tracking and "The Service desk" not in tracking


def test_assign_to_me_and_resolve_are_plain_buttons(app: Flask, org: Org) -> None:
    request_id = org.file()  # Dana's, as the account's SPOC
    lee = app.test_client()
    login(lee, org.spoc, org.lee)
    page = lee.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "Assign to me" in page and ">Resolve</button>" in page
    assert '<option value="" selected disabled>Choose an agent</option>' in page
    token = csrf_token(lee, f"/console/requests/{request_id}")
    lee.post(f"/console/requests/{request_id}/assign", data={"csrf_token": token, "to": "me"})
    assert org.spoc.requests.get(request_id, Actor.system()).owner_agent_id == org.lee.id
    lee.post(f"/console/requests/{request_id}/resolve", data={"csrf_token": token})
    assert org.spoc.requests.get(request_id, Actor.system()).status is Status.RESOLVED


def test_hand_back_is_offered_to_the_team_not_to_the_spoc(app: Flask, org: Org) -> None:
    request_id = org.file()
    org.spoc.escalations.escalate(
        request_id, org.actor(org.dana), team_key="specialists", reason="ledger"
    )
    dana = app.test_client()
    login(dana, org.spoc, org.dana)
    assert "Hand back to the SPOC" not in dana.get(f"/console/requests/{request_id}").get_data(
        as_text=True
    )
    kim = app.test_client()
    login(kim, org.spoc, org.kim)
    assert "Hand back to the SPOC" in kim.get(f"/console/requests/{request_id}").get_data(
        as_text=True
    )


def test_routing_entries_are_credited_to_the_system(org: Org) -> None:
    request_id = org.file()
    [assigned] = [
        e for e in org.spoc.requests.timeline(request_id, Actor.system()) if e.kind == "assigned"
    ]
    assert assigned.actor_kind is ActorKind.SYSTEM and assigned.actor_name == "Routing"
