from __future__ import annotations

from datetime import date

from spoc import Actor
from tests.conftest import Org


def created(org: Org, request_id: int) -> dict:
    events = org.spoc.requests.timeline(request_id, Actor.system())
    return {e.kind: e for e in events}


def test_present_spoc_gets_the_request(org: Org) -> None:
    rid = org.file()
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.owner_agent_id == org.dana.id
    assert created(org, rid)["assigned"].summary == "Dana Reyes is the SPOC for Northwind Traders"


def test_absent_spoc_routes_to_first_available_deputy(org: Org) -> None:
    org.spoc.directory.add_absence(org.dana.id, date(2026, 2, 27), date(2026, 3, 3), "leave")
    rid = org.file()
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.owner_agent_id == org.lee.id
    event = created(org, rid)["created"]
    assert event.data["covering_for"] == org.dana.id
    assert event.data["until"] == "2026-03-03"
    assert event.data["routing_reason"] == (
        "Dana Reyes is away until 3 March; routed to deputy Lee Chen"
    )


def test_absent_first_deputy_is_skipped_for_the_next(org: Org) -> None:
    org.spoc.directory.add_absence(org.dana.id, date(2026, 3, 1), date(2026, 3, 10))
    org.spoc.directory.add_absence(org.lee.id, date(2026, 3, 2), date(2026, 3, 2))
    rid = org.file()
    assert org.spoc.requests.get(rid, Actor.system()).owner_agent_id == org.sam.id
    assert created(org, rid)["assigned"].summary == (
        "Dana Reyes is away until 10 March; deputy Lee Chen is away until 2 March; "
        "routed to deputy Sam Patel"
    )


def test_everyone_away_falls_back_to_the_desk_team(org: Org) -> None:
    for agent in (org.dana, org.lee, org.sam):
        org.spoc.directory.add_absence(agent.id, date(2026, 3, 1), date(2026, 3, 5))
    rid = org.file()
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.owner_agent_id is None
    assert request.owner_team_id == org.desk.id
    assert created(org, rid)["assigned"].summary.endswith(
        "no deputy available; routed to the desk team"
    )


def test_absence_that_ended_yesterday_does_not_count(org: Org) -> None:
    org.spoc.directory.add_absence(org.dana.id, date(2026, 2, 20), date(2026, 3, 1))
    rid = org.file()
    assert org.spoc.requests.get(rid, Actor.system()).owner_agent_id == org.dana.id


def test_request_without_subject_goes_to_desk_for_triage(org: Org) -> None:
    rid = org.file(subject_id=None)
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.owner_team_id == org.desk.id
    assert created(org, rid)["assigned"].summary == (
        "No subject linked; routed to the desk team for triage"
    )


def test_linking_a_subject_hands_the_request_to_its_acting_spoc(org: Org) -> None:
    rid = org.file(subject_id=None)
    request = org.spoc.requests.link_subject(rid, org.actor(org.sam), org.account.id)
    assert request.subject_id == org.account.id
    assert request.owner_agent_id == org.dana.id
    assert request.owner_team_id is None


def test_missing_desk_team_is_created_rather_than_losing_the_request(org: Org, spoc) -> None:
    rid = org.file(subject_id=None)
    spoc.settings.desk_team = "front_office"
    try:
        other = org.file(subject_id=None)
    finally:
        spoc.settings.desk_team = "desk"
    request = spoc.requests.get(other, Actor.system())
    assert request.owner_team_id is not None
    assert request.owner_team_id != spoc.requests.get(rid, Actor.system()).owner_team_id


def test_concurrent_first_requests_create_the_desk_team_once(org: Org, spoc) -> None:
    """Two intakes racing to create a missing desk team: both requests land with it."""
    import threading

    spoc.settings.desk_team = "night_desk"
    barrier = threading.Barrier(4)
    created: list[int] = []

    def intake(i: int) -> None:
        barrier.wait()
        created.append(org.file(subject_id=None, requester={"name": "N", "email": f"n{i}@x.org"}))

    threads = [threading.Thread(target=intake, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        spoc.settings.desk_team = "desk"
    teams = {spoc.requests.get(rid, Actor.system()).owner_team_id for rid in created}
    assert len(created) == 4
    assert len(teams) == 1


def test_directory_tells_whether_an_agent_is_in_a_team(org: Org) -> None:
    directory = org.spoc.directory
    assert directory.in_team(org.kim.id, "specialists")
    assert not directory.in_team(org.dana.id, "specialists")
    assert not directory.in_team(org.kim.id, "no_such_team")


def test_erasing_request_details_keeps_the_requester_and_the_record(org: Org) -> None:
    from spoc import PermissionDenied

    rid = org.file(fields={"summary": "I need a sign-language interpreter"})
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Booked for you")
    try:
        org.spoc.directory.erase_request_details(org.actor(org.dana), [rid])
    except PermissionDenied:
        pass
    else:
        raise AssertionError("an agent may not erase")
    assert org.spoc.directory.erase_request_details(Actor.system("retention"), [rid]) == 1
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.fields, request.summary) == ({}, "Anonymised request")
    assert request.contact_id is not None and request.subject_id == org.account.id
    bodies = [e.message.body for e in org.spoc.requests.timeline(rid, Actor.system()) if e.message]
    assert bodies == ["[removed]"]
