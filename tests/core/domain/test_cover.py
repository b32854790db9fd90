"""Cover for open requests: when an absence begins, each open request gets an acting owner and
its requester is told once; messages go to the cover; ownership returns when it ends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from spoc import Actor, FrozenClock, Role, Status
from spoc.core.domain.models import OutboxMessage, Request
from tests.conftest import Org


def _mails(org: Org, to: str) -> list[OutboxMessage]:
    with org.spoc.db.reader() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == to, OutboxMessage.channel == "email")
                .order_by(OutboxMessage.id)
            )
        )


def test_an_absence_gives_each_open_request_a_cover_and_tells_the_requester_once(
    org: Org, clock: FrozenClock
) -> None:
    spoc = org.spoc
    ids = [org.file(fields={"summary": f"Question {n}"}) for n in range(3)]  # Dana's account
    done = org.file(fields={"summary": "Done already"})
    spoc.requests.resolve(done, org.actor(org.dana))
    today = spoc.requests.today()
    spoc.directory.add_absence(org.dana.id, today + timedelta(days=1), today + timedelta(days=9))
    before = len(_mails(org, "maria@example.com"))
    assert spoc.sweep().covered == 0  # not yet
    clock.advance(timedelta(days=1))
    report = spoc.sweep()
    assert report.covered == 3
    for request_id in ids:
        request = spoc.requests.get(request_id, Actor.system())
        assert request.owner_agent_id == org.lee.id  # the account's first deputy
        detail = spoc.requests.detail(request_id, org.requester(request_id), channel="portal")
        assert detail.point_of_contact.covering is not None
        assert "Lee Chen covers for Dana Reyes until" in detail.point_of_contact.covering
    assert spoc.requests.get(done, Actor.system()).owner_agent_id == org.dana.id
    told = _mails(org, "maria@example.com")[before:]
    assert len(told) == 3 and all("Lee Chen covers for Dana Reyes" in m.subject for m in told)
    assert spoc.sweep().covered == 0  # once
    assert len(_mails(org, "maria@example.com")) == before + 3
    # The requester's next message goes to the cover.
    spoc.requests.post_message(ids[0], org.requester(ids[0]), "Any news?")
    assert _mails(org, "lee@example.org")[-1].subject.endswith("New message")


def test_ownership_returns_when_the_absence_ends_unless_reassigned_by_hand(
    org: Org, clock: FrozenClock
) -> None:
    spoc = org.spoc
    kept, moved = org.file(), org.file()
    today = spoc.requests.today()
    spoc.directory.add_absence(org.dana.id, today, today + timedelta(days=2))
    spoc.sweep()
    spoc.requests.assign(moved, org.actor(org.lee), agent_id=org.sam.id)
    clock.advance(timedelta(days=3))
    assert spoc.sweep().returned == 1
    assert spoc.requests.get(kept, Actor.system()).owner_agent_id == org.dana.id
    assert spoc.requests.get(moved, Actor.system()).owner_agent_id == org.sam.id
    with spoc.db.reader() as session:
        assert (
            session.scalars(
                select(Request.id).where(Request.covering_for_agent_id.is_not(None))
            ).all()
            == []
        )
    timeline = [e.summary for e in spoc.requests.timeline(kept, Actor.system())]
    assert "Dana Reyes is back; the request is theirs again" in timeline


def test_without_an_available_deputy_the_desk_covers(org: Org, clock: FrozenClock) -> None:
    spoc = org.spoc
    request_id = org.file()
    today = spoc.requests.today()
    for agent in (org.dana, org.lee, org.sam):
        spoc.directory.add_absence(agent.id, today, today + timedelta(days=5))
    spoc.sweep()
    request = spoc.requests.get(request_id, Actor.system())
    assert request.owner_agent_id is None and request.owner_team_id == org.desk.id
    assert request.status is Status.NEW


def test_the_overview_shows_who_is_away_and_who_covers(org: Org, clock: FrozenClock) -> None:
    spoc = org.spoc
    for _ in range(2):
        org.file()
    today = spoc.requests.today()
    spoc.directory.add_absence(org.dana.id, today, today + timedelta(days=4))
    spoc.directory.add_absence(org.sam.id, today + timedelta(days=30), today + timedelta(days=31))
    spoc.sweep()
    [line] = spoc.cover.overview().items  # Sam's absence is too far off
    assert (line.agent_name, line.covers) == ("Dana Reyes", (("Lee Chen", 2),))


def test_without_a_deputy_the_absent_agents_team_rule_covers_before_the_desk(
    org: Org, clock: FrozenClock
) -> None:
    spoc = org.spoc
    admin = org.actor(org.ada)
    extra = spoc.directory.add_agent(email="nia@example.org", name="Nia Okafor", role=Role.AGENT)
    spoc.directory.set_team_members(admin, org.desk.id, [org.dana.id, org.sam.id, extra.id])
    spoc.assignment.set_rule(admin, org.desk.id, "round_robin")
    ids = [org.file(subject_id=None) for _ in range(4)]  # routed to the desk by its rule…
    for request_id in ids:  # …then Dana took them all
        spoc.requests.assign(request_id, Actor.system(), agent_id=org.dana.id)
    today = spoc.requests.today()
    spoc.directory.add_absence(org.dana.id, today, today + timedelta(days=2))
    spoc.sweep()
    owners = [spoc.requests.get(i, Actor.system()).owner_agent_id for i in ids]
    assert org.dana.id not in owners and set(owners) == {org.sam.id, extra.id}
