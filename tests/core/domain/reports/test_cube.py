"""The day roll-ups: exact percentiles without a sort, the log of changed days, and the
worker's rebuild taking away exactly what it read, alone or with another worker at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, func, select, text

from spoc import Actor, Status
from spoc.core.domain.models import ReportDay, ReportDirtyDay
from spoc.core.domain.reports.cube import kth, pack, unpack
from spoc.core.domain.reports.filters import ReportFilter
from spoc.core.kernel.reports import ReportPeriod
from spoc.core.services import run_forever
from tests.conftest import Org

SYSTEM = Actor.system("test")


@given(
    st.lists(
        st.lists(st.integers(0, 10**6) | st.integers(0, 3), max_size=120), min_size=1, max_size=8
    ).filter(lambda arrays: any(arrays)),
    st.data(),
)
def test_kth_is_the_kth_smallest_of_all_the_arrays(arrays: list[list[int]], data: Any) -> None:
    everything = sorted(v for a in arrays for v in a)
    k = data.draw(st.integers(1, len(everything)))
    assert kth([unpack(pack(a)) for a in arrays], k) == everything[k - 1]


def dirty(org: Org) -> list[Any]:
    with org.spoc.db.reader() as session:
        return sorted(session.scalars(select(ReportDirtyDay.day)))


def stored_rows(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(ReportDay)) or 0)


def month(org: Org) -> ReportFilter:
    today = org.spoc.reports.today()
    return ReportFilter(ReportPeriod(today - timedelta(days=27), today))


def new_requests(org: Org) -> Any:
    report = org.spoc.reports.report(SYSTEM, month(org), only="volume")
    return report[0].headlines[0].figure.value


def test_a_write_logs_its_days_and_the_worker_rolls_them_up(org: Org) -> None:
    rid = org.file()
    today = org.spoc.reports.today()
    assert dirty(org) == [today]
    assert org.spoc.reports.roll_up(max_days=None) == 1
    assert dirty(org) == [] and stored_rows(org) > 0
    assert new_requests(org) == 1
    # Resolving it days later logs both its filing day and the day it was resolved.
    org.spoc.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    org.spoc.requests.transition(rid, Status.OPEN, org.actor(org.dana))
    org.spoc.requests.transition(rid, Status.RESOLVED, org.actor(org.dana))
    assert set(dirty(org)) == {today, org.spoc.reports.today()}


def test_each_worker_pass_rolls_up_the_changed_days(org: Org) -> None:
    org.file()
    org.file()
    run_forever(org.spoc, timedelta(seconds=1), passes=1)
    assert dirty(org) == []
    assert new_requests(org) == 2


def test_a_day_changed_again_after_its_roll_up_is_read_from_the_facts(org: Org) -> None:
    org.file()
    org.spoc.reports.roll_up(max_days=None)
    org.file()  # logged, not rolled up yet: the report folds today's facts itself
    assert new_requests(org) == 2
    org.spoc.reports.roll_up(max_days=None)
    assert new_requests(org) == 2


def test_a_rebuild_rolls_up_every_day(org: Org) -> None:
    org.file()
    org.spoc.reports.rebuild()
    assert dirty(org) == [] and stored_rows(org) > 0
    assert new_requests(org) == 1


def test_a_change_logged_while_the_worker_rolls_up_stays_logged(org: Org) -> None:
    engine = org.spoc.db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing can be logged meanwhile")
    org.file()
    today = org.spoc.reports.today()
    once: list[bool] = []

    def meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Another transaction logs the day (and commits) after the worker read the log.
        if statement.startswith("DELETE FROM report_days") and not once:
            once.append(True)
            with engine.connect() as other:
                other.execute(text("INSERT INTO report_dirty_days (day) VALUES (:d)"), {"d": today})
                other.commit()

    event.listen(engine, "before_cursor_execute", meanwhile)
    try:
        assert org.spoc.reports.roll_up(max_days=1) == 1
    finally:
        event.remove(engine, "before_cursor_execute", meanwhile)
    assert once and dirty(org) == [today]
    assert org.spoc.reports.roll_up(max_days=None) == 1  # the next pass takes it
    assert dirty(org) == []


def test_two_workers_rolling_up_at_once_store_each_day_once(org: Org) -> None:
    for _ in range(3):
        org.file()
        org.spoc.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    expected = new_requests(org)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            org.spoc.reports.roll_up(max_days=None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with org.spoc.db.reader() as session:
        key = (
            ReportDay.day, ReportDay.cohort, ReportDay.type_key, ReportDay.channel,
            ReportDay.priority, ReportDay.team_id, ReportDay.level, ReportDay.trigger,
        )  # fmt: skip
        duplicates = session.execute(
            select(*key, func.count()).group_by(*key).having(func.count() > 1)
        ).all()
    assert duplicates == [] and dirty(org) == []
    assert new_requests(org) == expected == 3
