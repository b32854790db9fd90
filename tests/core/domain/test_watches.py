"""Watches: a deadline the sweep acts on once, then settles — never lost, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from spoc import FrozenClock, PluginError, Watch
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
    yield build_org(spoc_of(app))
    reminders.CRASH[0] = False


def arm(org: Org, cause: str, due: timedelta, **target: object) -> int:
    with org.spoc.db.transaction() as session:
        watch = org.spoc.watches.arm(session, cause, org.spoc.clock.now() + due, **target)  # type: ignore[arg-type]
        return watch.id


def settled(org: Org, watch_id: int) -> bool:
    with org.spoc.db.reader() as session:
        watch = session.get(Watch, watch_id)
        assert watch is not None
        return watch.settled_at is not None


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
