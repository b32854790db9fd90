"""Watches: a deadline the sweep acts on once, then settles — never lost, never twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from spoc import Actor, FrozenClock, PluginError, Watch, WatchOutcome
from spoc.core.domain.models import Subject
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org
from tests.core.domain.test_sweep import escalations
from tests.core.fake_plugins import reminders
from tests.core.platform.test_plugins import with_fakes

H = timedelta(hours=1)


@pytest.fixture
def org(make_app: AppFactory) -> Iterator[Org]:
    app = make_app(plugins=["generic", "reminders"], plugin_entry_points=with_fakes("reminders"))
    reminders.FIRED.clear()
    reminders.CRASH[0] = False
    reminders.ANSWER[0] = None
    yield build_org(spoc_of(app))
    reminders.CRASH[0] = False
    reminders.ANSWER[0] = None


def arm(org: Org, cause: str, due: timedelta, **target: object) -> int:
    with org.spoc.db.transaction() as session:
        watch = org.spoc.watches.arm(session, cause, org.spoc.clock.now() + due, **target)  # type: ignore[arg-type]
        return watch.id


def settled(org: Org, watch_id: int) -> bool:
    return stored(org, watch_id).settled_at is not None


def stored(org: Org, watch_id: int) -> Watch:
    with org.spoc.db.reader() as session:
        watch = session.get(Watch, watch_id)
        assert watch is not None
        return watch


def test_hook_watch_due_fires_once_on_the_owning_plugin(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    watch_id = arm(org, "reminders:chase", 2 * H, request_id=rid)
    assert org.spoc.sweep().watches == 0  # not due yet
    clock.advance(2 * H)
    assert org.spoc.sweep().watches == 1
    assert org.spoc.sweep().watches == 0
    assert reminders.FIRED == ["reminders:chase"]
    assert settled(org, watch_id)


def test_arming_again_moves_the_due_time_and_a_settled_watch_stays_settled(
    org: Org, clock: FrozenClock
) -> None:
    rid = org.file()
    first = arm(org, "reminders:chase", H, request_id=rid)
    assert arm(org, "reminders:chase", 3 * H, request_id=rid) == first
    clock.advance(2 * H)
    assert org.spoc.sweep().watches == 0  # moved
    clock.advance(H)
    assert org.spoc.sweep().watches == 1
    arm(org, "reminders:chase", H, request_id=rid)  # fired already: stays settled
    clock.advance(2 * H)
    assert org.spoc.sweep().watches == 0
    assert reminders.FIRED == ["reminders:chase"]


def test_a_settled_or_disarmed_watch_never_fires(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    arm(org, "reminders:chase", H, request_id=rid)
    other = arm(org, "reminders:answer", H, request_id=rid)
    by_id = arm(org, "reminders:third", H, request_id=rid)
    with org.spoc.db.transaction() as session:
        assert org.spoc.watches.settle(session, "reminders:chase", request_id=rid)
        assert not org.spoc.watches.settle(session, "reminders:chase", request_id=rid)
        assert org.spoc.watches.disarm(session, "reminders:answer", request_id=rid)
        assert org.spoc.watches.settle_by_id(session, by_id)
    clock.advance(2 * H)
    assert org.spoc.sweep().watches == 0
    assert reminders.FIRED == []
    with org.spoc.db.reader() as session:
        assert session.get(Watch, other) is None


def test_a_watch_escalates_its_request_once(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    arm(org, "reminders:chase", H, request_id=rid, escalate_to="specialists", reason="no answer")
    clock.advance(H)
    report = org.spoc.sweep()
    assert (report.watches, report.plugin_triggers) == (1, 1)
    assert escalations(org, rid) == [(1, "specialists", "plugin:reminders:chase")]


def test_a_crash_half_way_leaves_the_watch_due_and_nothing_written(
    org: Org, clock: FrozenClock
) -> None:
    account = org.account.id
    watch_id = arm(org, "reminders:check", H, subject_id=account)
    clock.advance(H)
    reminders.CRASH[0] = True
    report = org.spoc.sweep()
    assert report.watches == 0
    assert report.errors == [
        f"reminders: watch {watch_id} (reminders:check): RuntimeError: the reminder service is down"
    ]
    assert not settled(org, watch_id)  # never lost
    with org.spoc.db.reader() as session:
        assert session.scalar(select(Subject.name).where(Subject.id == account)) == org.account.name
    reminders.CRASH[0] = False
    assert org.spoc.sweep().watches == 1
    assert org.spoc.sweep().watches == 0  # never twice
    with org.spoc.db.reader() as session:
        name = session.scalar(select(Subject.name).where(Subject.id == account))
    assert name == f"{org.account.name} (checked)"
    assert settled(org, watch_id)


def test_the_sweep_handles_at_most_its_limit_of_watches(org: Org, clock: FrozenClock) -> None:
    rids = [org.file() for _ in range(3)]
    for i, rid in enumerate(rids):
        arm(org, "reminders:chase", H + i * timedelta(minutes=1), request_id=rid)
    clock.advance(2 * H)
    assert org.spoc.sweep(limit=2).watches == 2
    assert org.spoc.sweep(limit=2).watches == 1


def test_a_cause_must_be_namespaced_by_an_enabled_plugin(org: Org) -> None:
    rid = org.file()
    with org.spoc.db.transaction() as session:
        for cause in ("chase", "Reminders:chase", "logistics:chase"):
            with pytest.raises(PluginError):
                org.spoc.watches.arm(session, cause, org.spoc.clock.now(), request_id=rid)
        with pytest.raises(PluginError):
            org.spoc.watches.arm(session, "reminders:x", org.spoc.clock.now())
        with pytest.raises(PluginError):
            org.spoc.watches.arm(
                session, "reminders:x", org.spoc.clock.now(), subject_id=1, escalate_to="desk"
            )


def test_a_disabled_plugins_due_watch_is_settled_unfired(
    org: Org, make_app: AppFactory, clock: FrozenClock
) -> None:
    rid = org.file()
    watch_id = arm(org, "reminders:chase", H, request_id=rid)
    clock.advance(H)
    without = spoc_of(make_app(plugins=["generic"]))
    assert without.sweep().watches == 0
    assert settled(org, watch_id)
    assert reminders.FIRED == []


# --- what the hook answers -------------------------------------------------------------


def test_an_outcome_escalates_to_the_team_the_plugin_names_with_its_reason(
    org: Org, clock: FrozenClock
) -> None:
    rid = org.file()
    arm(org, "reminders:chase", H, request_id=rid, escalate_to="specialists", reason="armed")
    reminders.ANSWER[0] = WatchOutcome(escalate="authority", reason="decided when due")
    clock.advance(H)
    report = org.spoc.sweep()
    assert (report.watches, report.plugin_triggers) == (1, 1)
    assert escalations(org, rid) == [(1, "authority", "plugin:reminders:chase")]
    summaries = [e.summary for e in org.spoc.requests.timeline(rid, Actor.system())]
    assert any("decided when due" in summary for summary in summaries)


def test_an_empty_outcome_settles_without_escalating(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    watch_id = arm(org, "reminders:chase", H, request_id=rid, escalate_to="specialists")
    reminders.ANSWER[0] = WatchOutcome()
    clock.advance(H)
    report = org.spoc.sweep()
    assert (report.watches, report.plugin_triggers) == (1, 0)
    assert escalations(org, rid) == []
    assert settled(org, watch_id)


def test_a_rearmed_watch_falls_due_again_later_and_escalates_only_once(
    org: Org, clock: FrozenClock
) -> None:
    rid = org.file()
    watch_id = arm(org, "reminders:chase", H, request_id=rid, reason="still nothing")
    start = clock.now()
    reminders.ANSWER[0] = WatchOutcome(escalate="specialists", rearm_at=start + 3 * H)
    clock.advance(H)
    assert (org.spoc.sweep().watches, org.spoc.sweep().watches) == (1, 0)
    watch = stored(org, watch_id)
    assert (watch.settled_at, watch.due_at) == (None, start + 3 * H)
    reminders.ANSWER[0] = WatchOutcome(escalate="specialists", rearm_at=start + 5 * H)
    clock.advance(2 * H)
    report = org.spoc.sweep()
    assert (report.watches, report.plugin_triggers) == (1, 0)  # once per request and cause
    reminders.ANSWER[0] = None
    clock.advance(2 * H)
    assert org.spoc.sweep().watches == 1
    assert settled(org, watch_id)
    assert reminders.FIRED == ["reminders:chase"] * 3
    by_watch = [e for e in escalations(org, rid) if e[2].startswith("plugin:")]
    assert by_watch == [(1, "specialists", "plugin:reminders:chase")]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda now: "settle it", "spoc_watch_due returned str, expected WatchOutcome"),
        (lambda now: WatchOutcome(rearm_at=now), "is not later than now"),
        (lambda now: WatchOutcome(escalate="specialists"), "is a subject's: it cannot escalate"),
    ],
    ids=["wrong type", "rearmed for now", "subject escalates"],
)
def test_a_wrong_answer_is_refused_naming_the_plugin_and_the_watch_stays_due(
    org: Org, clock: FrozenClock, answer: Callable[[datetime], object], message: str
) -> None:
    watch_id = arm(org, "reminders:check", H, subject_id=org.account.id)
    clock.advance(H)
    reminders.ANSWER[0] = answer(clock.now())
    report = org.spoc.sweep()
    assert report.watches == 0
    [error] = report.errors
    assert error.startswith(
        f"reminders: watch {watch_id} (reminders:check): PluginContractError: plugin 'reminders'"
    )
    assert message in error
    assert not settled(org, watch_id)
    with org.spoc.db.reader() as session:
        name = session.scalar(select(Subject.name).where(Subject.id == org.account.id))
    assert name == org.account.name  # the hook's own write rolled back with it


def test_an_outcome_refuses_a_blank_team_or_a_naive_time() -> None:
    with pytest.raises(ValueError, match="escalate"):
        WatchOutcome(escalate=" ")
    with pytest.raises(ValueError, match="rearm_at"):
        WatchOutcome(rearm_at=datetime(2026, 1, 1))  # naive: no zone


def test_a_plugin_claims_its_due_watches_once_through_the_index(
    org: Org, clock: FrozenClock
) -> None:
    rids = [org.file() for _ in range(2)]
    first = arm(org, "reminders:open:1", H, request_id=rids[0])
    arm(org, "reminders:open:2", 2 * H, request_id=rids[1])
    arm(org, "reminders:chase", H, request_id=rids[1])
    clock.advance(2 * H)
    with org.spoc.db.transaction() as session:
        due = org.spoc.watches.due(session, "reminders:open:", clock.now(), 10)
        assert [w.cause for w in due] == ["reminders:open:1", "reminders:open:2"]
        assert org.spoc.watches.due(session, "reminders:open:", clock.now(), 1)[0].id == first
        assert org.spoc.watches.settle_by_id(session, first)
        assert not org.spoc.watches.settle_by_id(session, first)  # claimed once
        with pytest.raises(PluginError):
            org.spoc.watches.due(session, "logistics:", clock.now(), 10)
    with org.spoc.db.reader() as session:
        left = org.spoc.watches.due(session, "reminders:", clock.now(), 10)
    assert [w.cause for w in left] == ["reminders:chase", "reminders:open:2"]
