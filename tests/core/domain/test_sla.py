"""SLA clocks: exact deadlines with an injected clock, pauses, and self-explaining logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from spoc import Actor, FrozenClock, Priority, Status
from spoc.core.domain.models import NO_DEADLINE, Request, SlaClock, SlaClockEvent
from spoc.core.domain.sla import describe
from spoc.core.services import spoc_of
from tests.conftest import START, AppFactory, Org, build_org

H = timedelta(hours=1)


def clocks(org: Org, rid: int) -> dict[str, SlaClock]:
    with org.spoc.db.reader() as session:
        return {
            c.kind: c for c in session.scalars(select(SlaClock).where(SlaClock.request_id == rid))
        }


def history(org: Org, rid: int, kind: str) -> str:
    with org.spoc.db.reader() as session:
        clock = session.scalar(
            select(SlaClock).where(SlaClock.request_id == rid, SlaClock.kind == kind)
        )
        assert clock is not None
        events = list(
            session.scalars(select(SlaClockEvent).where(SlaClockEvent.clock_id == clock.id))
        )
        return describe(clock, events, ZoneInfo("Europe/London"))


def request(org: Org, rid: int) -> Request:
    return org.spoc.requests.get(rid, Actor.system())


def test_intake_starts_first_response_and_resolution_clocks(org: Org) -> None:
    rid = org.file()  # a question: P4 -> 8 h first response, 40 h resolution, 24x7 in tests
    found = clocks(org, rid)
    assert found["first_response"].due_at == START + 8 * H
    assert found["first_response"].warn_at == START + 6 * H
    assert found["resolution"].due_at == START + 40 * H
    assert request(org, rid).next_due_at == START + 6 * H
    assert request(org, rid).deadline_at == START + 8 * H


def test_first_public_reply_meets_first_response_but_a_note_does_not(
    org: Org, clock: FrozenClock
) -> None:
    rid = org.file()
    clock.advance(H)
    org.spoc.requests.post_message(rid, org.actor(org.dana), "thinking", internal=True)
    assert clocks(org, rid)["first_response"].state == "running"
    clock.advance(H)
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Hello Maria")
    assert clocks(org, rid)["first_response"].state == "met"
    assert request(org, rid).deadline_at == START + 40 * H


def test_waiting_pauses_resolution_and_pushes_the_deadline_back(
    org: Org, clock: FrozenClock
) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Which invoice?")
    clock.advance(2 * H)
    org.spoc.requests.transition(rid, Status.WAITING, dana)
    assert clocks(org, rid)["resolution"].state == "paused"
    assert request(org, rid).deadline_at == NO_DEADLINE
    clock.advance(24 * H)
    org.spoc.requests.post_message(rid, org.requester(rid), "INV-42")
    resolution = clocks(org, rid)["resolution"]
    assert resolution.state == "running"
    assert resolution.due_at == START + 40 * H + 24 * H
    assert resolution.paused_seconds == 24 * 3600


def test_business_calendar_deadlines_skip_nights_and_weekends(make_app: AppFactory) -> None:
    app = make_app(
        calendars={
            "default": {
                "timezone": "Europe/London",
                "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            }
        }
    )
    org = build_org(spoc_of(app))
    rid = org.file()  # Monday 09:00: P4 resolution is 40 business hours = Friday 17:00
    assert clocks(org, rid)["resolution"].due_at == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)


def test_resolution_is_met_on_resolve_and_resumes_on_reopen(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Done")
    clock.advance(3 * H)
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    found = clocks(org, rid)
    assert found["resolution"].state == "met" and found["auto_close"].state == "running"
    clock.advance(5 * H)
    org.spoc.requests.post_message(rid, org.requester(rid), "Not fixed")
    found = clocks(org, rid)
    assert found["resolution"].state == "running"
    assert found["resolution"].due_at == START + 40 * H + 5 * H
    assert found["auto_close"].state == "stopped"


def test_priority_change_retargets_running_clocks(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    clock.advance(H)
    org.spoc.requests.change_priority(rid, org.actor(org.dana), Priority.P1, reason="outage")
    found = clocks(org, rid)
    assert found["first_response"].due_at == START + H / 2
    assert found["resolution"].due_at == START + 4 * H


def test_cancel_stops_every_clock(org: Org) -> None:
    rid = org.file()
    org.spoc.requests.transition(rid, Status.CANCELLED, org.requester(rid))
    assert {c.state for c in clocks(org, rid).values()} == {"stopped"}
    assert request(org, rid).next_due_at is None


def test_sla_overrides_from_settings(make_app: AppFactory) -> None:
    app = make_app(
        sla_overrides={"generic.question": {"resolution": {"P4": "PT10H"}, "warn_ratio": 0.5}}
    )
    org = build_org(spoc_of(app))
    rid = org.file()
    found = clocks(org, rid)
    assert found["resolution"].due_at == START + 10 * H
    assert found["resolution"].warn_at == START + 5 * H


def test_a_clock_explains_itself(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Which invoice?")
    clock.advance(H + timedelta(minutes=12))
    org.spoc.requests.transition(rid, Status.WAITING, dana)
    clock.advance(26 * H)
    org.spoc.requests.post_message(rid, org.requester(rid), "INV-42")
    assert history(org, rid, "resolution") == (
        "Resolution: started Mon 02 Mar 09:00 · paused Mon 02 Mar 10:12, waiting for the requester"
        " · resumed Tue 03 Mar 12:12, the requester answered · due Thu 05 Mar 03:00"
    )


def test_the_tracking_page_tells_the_requester_when_to_expect_an_answer(
    app: Flask, org: Org
) -> None:
    _, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "When?"},
        requester={"name": "Maria", "email": "maria@example.com"},
    )
    page = app.test_client().get(f"/track/{token}").get_data(as_text=True)
    assert "Expect a first answer by Mon 02 Mar, 17:00" in page


def test_hook_sla_policy_lets_a_plugin_choose_minutes_for_one_request(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    from tests.core.fake_plugins import rush
    from tests.core.platform.test_plugins import with_fakes

    app = make_app(plugins=["generic", "rush"], plugin_entry_points=with_fakes("rush"))
    org = build_org(spoc_of(app))
    rush.SEEN.clear()
    rushed = org.file(fields={"summary": "RUSH: the stage lights are out"})
    normal = org.file(fields={"summary": "Where is my invoice?"})
    assert rush.SEEN == [START, START]  # asked when the clocks start, with that instant
    assert clocks(org, rushed)["first_response"].due_at == START + timedelta(minutes=5)
    assert clocks(org, rushed)["resolution"].due_at == START + timedelta(minutes=30)
    assert clocks(org, normal)["resolution"].due_at > START + 4 * H  # the type's own policy
    # A priority change keeps the policy the clock started under, asked for that instant.
    clock.advance(timedelta(minutes=2))
    org.spoc.requests.change_priority(
        rushed, org.actor(org.dana), Priority.P1, reason="the show starts soon"
    )
    assert rush.SEEN[-1] == START
    assert clocks(org, rushed)["resolution"].due_at == START + timedelta(minutes=30)
