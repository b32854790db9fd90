"""Property-based: after any sequence of actions (filing, replies, waiting, resolving,
reopening, escalating, handing back, ratings, time passing, the sweep breaching and closing),
the facts kept in each write equal the facts ``spoc reports rebuild`` folds from the timeline
and the clock log; and the report is the same read from the facts, from the worker's day
roll-ups, or from a mix of both (some days rolled up, some still logged as changed)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from spoc import Actor, FrozenClock, ServiceError, Status
from spoc.core.domain.models import EscalationFact, ReportDirtyDay, Request, RequestFact
from spoc.core.domain.reports.dirty import mark_all_dirty
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.kernel.reports import ReportPeriod
from spoc.testing import BUSINESS_CALENDARS
from tests.conftest import Org


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    # A real working week, so business seconds differ from wall-clock ones.
    return {"calendars": BUSINESS_CALENDARS}


def snapshot(org: Org) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    def rows(model: Any) -> list[tuple[Any, ...]]:
        columns = list(model.__table__.columns.keys())
        with org.spoc.db.reader() as session:
            found = session.scalars(select(model)).all()
            return sorted(tuple(getattr(r, c) for c in columns) for r in found)

    return rows(RequestFact), rows(EscalationFact)


def report_of(org: Org) -> list[Any]:
    """The whole report, over every day the actions can reach, and narrowed to one priority
    and to one SPOC (a filter the roll-ups do not hold)."""
    today = org.spoc.reports.today()
    period = ReportPeriod(today - timedelta(days=140), today)
    filters = [
        ReportFilter(period),
        ReportFilter(period, priority="P1"),
        ReportFilter(period, agent_id=org.dana.id),
    ]
    return [org.spoc.reports.report(Actor.system("test"), chosen) for chosen in filters]


def test_incremental_facts_equal_a_rebuild_after_random_actions(org: Org) -> None:
    spoc = org.spoc
    clock = spoc.clock
    assert isinstance(clock, FrozenClock)

    class Actions(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[int] = []

        def attempt(self, action: Any) -> None:
            with contextlib.suppress(ServiceError):
                action()

        @initialize()
        def file_first(self) -> None:
            self.ids.append(org.file())

        @rule(urgent=st.booleans())
        def file(self, urgent: bool) -> None:
            summary = "Everything is down" if urgent else "Where is my invoice?"
            self.ids.append(org.file(fields={"summary": summary}))

        @rule(
            i=st.integers(0, 9),
            to=st.sampled_from(list(Status)),
            who=st.sampled_from(["dana", "requester"]),
        )
        def transition(self, i: int, to: Status, who: str) -> None:
            rid = self.ids[i % len(self.ids)]
            actor = org.requester(rid) if who == "requester" else org.actor(org.dana)
            self.attempt(lambda: spoc.requests.transition(rid, to, actor))

        @rule(
            i=st.integers(0, 9),
            internal=st.booleans(),
            who=st.sampled_from(["dana", "kim", "requester"]),
        )
        def message(self, i: int, internal: bool, who: str) -> None:
            rid = self.ids[i % len(self.ids)]
            actor = org.requester(rid) if who == "requester" else org.actor(getattr(org, who))
            self.attempt(lambda: spoc.requests.post_message(rid, actor, "ok", internal=internal))

        @rule(i=st.integers(0, 9))
        def escalate(self, i: int) -> None:
            rid = self.ids[i % len(self.ids)]
            self.attempt(
                lambda: spoc.escalations.escalate(
                    rid, org.actor(org.dana), team_key="specialists", reason="help"
                )
            )

        @rule(i=st.integers(0, 9))
        def hand_back(self, i: int) -> None:
            rid = self.ids[i % len(self.ids)]
            self.attempt(lambda: spoc.escalations.hand_back(rid, org.actor(org.kim)))

        @rule(i=st.integers(0, 9), rating=st.integers(1, 5))
        def rate(self, i: int, rating: int) -> None:
            rid = self.ids[i % len(self.ids)]
            self.attempt(
                lambda: spoc.requests.give_feedback(rid, org.requester(rid), rating, "fine")
            )

        @rule(i=st.integers(0, 9), to=st.sampled_from(["lee", "sam"]))
        def assign(self, i: int, to: str) -> None:
            rid = self.ids[i % len(self.ids)]
            agent = getattr(org, to).id
            self.attempt(lambda: spoc.requests.assign(rid, org.actor(org.dana), agent_id=agent))

        @rule(minutes=st.integers(1, 60 * 24 * 9))
        def time_passes(self, minutes: int) -> None:
            clock.advance(timedelta(minutes=minutes))

        @rule()
        def sweep(self) -> None:
            spoc.sweep()

        @rule(days=st.integers(1, 3))
        def worker_rolls_up(self, days: int) -> None:
            spoc.reports.roll_up(max_days=days)

        @invariant()
        def report_is_the_same_from_facts_or_roll_ups(self) -> None:
            # As it stands: some days rolled up (the worker rule), the changed ones logged.
            as_it_stands = report_of(org)
            # Every day logged as changed: the report is read from the facts alone. Equal to
            # what stood, so no write left a roll-up stale without logging its day.
            mark_all_dirty(spoc.db)
            assert report_of(org) == as_it_stands
            spoc.reports.roll_up(max_days=None)  # every day rolled up, nothing logged
            assert report_of(org) == as_it_stands
            with org.spoc.db.reader() as session:
                assert session.scalar(select(func.count()).select_from(ReportDirtyDay)) == 0

        @invariant()
        def facts_equal_a_rebuild(self) -> None:
            kept = snapshot(org)
            with org.spoc.db.reader() as session:
                requests = session.scalar(select(func.count()).select_from(Request))
            assert len(kept[0]) == requests, "every request has its facts"
            spoc.reports.rebuild(batch=3)
            assert snapshot(org) == kept

    run_state_machine_as_test(
        Actions,
        settings=settings(
            max_examples=8,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
