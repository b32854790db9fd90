"""Large console imports run by the worker as jobs: the job's row follows the real run batch
by batch, and a worker stopped mid-way is taken over once its heartbeat is stale, without a
subject written twice."""

from __future__ import annotations

import io
from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest
from flask import Flask
from sqlalchemy import func, select

from spoc import FrozenClock, spoc_of
from spoc.core.domain.import_jobs import STALE, _TakenOver
from spoc.core.domain.models import ImportJob, Subject
from spoc.core.kernel.errors import PermissionDenied
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from tests.conftest import AppFactory, Org, build_org
from tests.core.fake_plugins import sites


@pytest.fixture
def sites_app(make_app: AppFactory) -> Flask:
    sites.WRITES.clear()
    sites.STOP_AFTER.clear()
    fake = EntryPoint("sites", "tests.core.fake_plugins.sites", ENTRY_POINT_GROUP)
    return make_app(
        plugins=["generic", "sites"], plugin_entry_points=[*installed_entry_points(), fake]
    )


def _file(lines: int, *, bad_line: int | None = None) -> io.BytesIO:
    rows = ["name,external_ref,floor"]
    for i in range(lines):
        floor = "999" if bad_line is not None and i + 2 == bad_line else str(i % 100)
        rows.append(f"Site {i},S-{i},{floor}")
    return io.BytesIO(("\n".join(rows) + "\n").encode())


def _sites(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return (
            session.scalar(select(func.count(Subject.id)).where(Subject.kind == "sites.site")) or 0
        )


def _job(org: Org, job_id: int) -> ImportJob:
    return org.spoc.imports.get(org.actor(org.ada), job_id)


def test_a_job_runs_on_the_worker_and_its_row_says_what_it_did(sites_app: Flask) -> None:
    org = build_org(spoc_of(sites_app))
    admin = org.actor(org.ada)
    job = org.spoc.imports.submit(
        admin, "subjects", "sites.site", _file(1200), file_name="sites.csv", dry_run=False
    )
    assert (job.status, job.lines_total, job.checked) == ("queued", 1200, 0)
    assert org.spoc.imports.run_next() is True
    assert org.spoc.imports.run_next() is False  # nothing else waits
    done = _job(org, job.id)
    assert (done.status, done.checked, done.written, done.created) == ("done", 1200, 1200, 1200)
    assert _sites(org) == 1200 and len(sites.WRITES) == 1200


def test_a_job_with_errors_lists_them_by_line_and_writes_nothing(sites_app: Flask) -> None:
    org = build_org(spoc_of(sites_app))
    job = org.spoc.imports.submit(
        org.actor(org.ada),
        "subjects",
        "sites.site",
        _file(900, bad_line=777),
        file_name="sites.csv",
        dry_run=False,
    )
    org.spoc.imports.run_next()
    done = _job(org, job.id)
    assert (done.status, done.error_count, done.written) == ("done", 1, 0)
    assert done.errors == [
        {
            "line": 777,
            "field": "details.floor",
            "message": "Input should be less than or equal to 200",
        }
    ]
    assert _sites(org) == 0


def test_a_stopped_worker_is_taken_over_and_nothing_is_written_twice(
    sites_app: Flask, clock: FrozenClock
) -> None:
    org = build_org(spoc_of(sites_app))
    job = org.spoc.imports.submit(
        org.actor(org.ada), "subjects", "sites.site", _file(2000), file_name="s.csv", dry_run=False
    )
    sites.STOP_AFTER.append(1000)  # the third batch of 500 stops the process
    with pytest.raises(SystemExit):
        org.spoc.imports.run_next()
    stopped = _job(org, job.id)
    # The real run's progress, as the status page shows it: two batches written and committed.
    assert (stopped.status, stopped.checked, stopped.written) == ("writing", 2000, 1000)
    assert _sites(org) == 1000
    sites.STOP_AFTER.clear()
    clock.advance(STALE - timedelta(seconds=1))
    assert org.spoc.imports.run_next() is False  # its heartbeat is recent: still running
    clock.advance(timedelta(seconds=2))
    assert org.spoc.imports.run_next() is True  # taken over, run again from the start
    done = _job(org, job.id)
    assert (done.status, done.attempts, done.created, done.updated) == ("done", 2, 1000, 1000)
    assert _sites(org) == 2000  # the first 1,000 found by their reference, not made again
    with pytest.raises(_TakenOver):  # the first worker, were it alive, stops at its next batch
        org.spoc.imports._beat(job.id, 1, "writing", written=1500)


def test_only_admins_submit_and_read_jobs(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        org.spoc.imports.submit(
            org.actor(org.dana), "contacts", "", _file(1), file_name="c.csv", dry_run=True
        )
