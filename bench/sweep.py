"""Sweep cost follows what is due, not what is open.

    .venv/bin/python bench/sweep.py                        # SQLite file in a scratch folder
    .venv/bin/python bench/sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch
    .venv/bin/python bench/sweep.py --cases 100000:1000     # open:due pairs
    PYTHONPATH=../other-checkout .venv/bin/python bench/sweep.py   # that checkout's sweep

For 10k, 100k and 1M open requests with the same 1,000 of them due (a breached resolution
clock each), time one sweep pass that handles all 1,000 (warning, breach, escalation to the
specialist team, timeline and clock log, notices, report facts, written set-based in batches
of 200). Then 1M open with 10,000 due, a pass with nothing due at 1M, and the baseline: 1M
open with 1,000 due swept one request at a time (the write path before the set-based batch),
printed as a ratio of the time per escalation. Rows are bulk-loaded (COPY on PostgreSQL,
executemany on SQLite: bench/_bulk.py); the sweep is the real one. Use a scratch database: the
script empties the tables it loads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _bulk import after_bulk, bulk_insert, request_row  # bench/, beside this script
from sqlalchemy import text

from spoc import FrozenClock, create_app
from spoc.core.domain.models import Request, SlaClock
from spoc.core.services import Spoc, spoc_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Emptied before each load, children first.
TABLES = (
    "outbox_messages",
    "sla_clock_events",
    "sla_clocks",
    "escalation_triggers",
    "escalations",
    "timeline_events",
    "messages",
    "tracking_tokens",
    "requests",
)


CHUNK = 50_000


def load(spoc: Spoc, total: int, due: int, contact: int, owner: int) -> float:
    """``total`` open requests, the first ``due`` with a breached resolution clock."""
    started = time.perf_counter()
    db = spoc.db
    with db.engine.begin() as connection:
        for table in TABLES:
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - the bench's own names
    past, future = NOW - timedelta(minutes=1), NOW + timedelta(days=2)
    created = NOW - timedelta(hours=25)
    for first in range(1, total + 1, CHUNK):
        rows = [
            request_row(
                i,
                f"Question {i}",
                {},
                contact,
                created,
                owner_agent_id=owner,
                next_due_at=past if i <= due else future,
                deadline_at=past if i <= due else future,
            )
            for i in range(first, min(total, first + CHUNK - 1) + 1)
        ]
        bulk_insert(db, Request.__table__, rows)  # type: ignore[arg-type]
    clocks = [
        {
            "id": i,
            "request_id": i,
            "kind": "resolution",
            "calendar": "always_open",
            "target_seconds": 86400,
            "warn_seconds": 64800,
            "paused_seconds": 0,
            "state": "running",
            "started_at": created,
            "due_at": past,
            "warn_at": NOW - timedelta(hours=7),
        }
        for i in range(1, due + 1)
    ]
    bulk_insert(db, SlaClock.__table__, clocks)  # type: ignore[arg-type]
    after_bulk(db, ["requests", "sla_clocks"])
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def sweep(spoc: Spoc, due: int, *, set_based: bool = True) -> tuple[float, int]:
    """One pass over ``due`` due requests; with nothing due, the median of five passes (one
    pass is a few milliseconds, where one disturbance on a shared machine weighs)."""
    timings = []
    for _ in range(1 if due else 5):
        sweeper = spoc.sweeper()
        sweeper.set_based = set_based  # False: every request through the one-request path
        started = time.perf_counter()
        report = sweeper.run_once(max(due, 1))
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), report.escalated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in /tmp")
    parser.add_argument(
        "--cases",
        default="10000:1000,100000:1000,1000000:1000,1000000:10000,1000000:0",
        help="open:due pairs, each loaded and swept in turn",
    )
    parser.add_argument(
        "--baseline",
        default="1000000:1000",
        help="an open:due pair swept one request at a time (the path before the set-based "
        "batch), for the ratio; empty: none",
    )
    args = parser.parse_args()
    scratch = tempfile.mkdtemp()
    settings = {
        "env": "test",
        "database_url": args.database_url or f"sqlite:///{Path(scratch) / 'sweep.sqlite'}",
        "plugins": ["generic"],
        "clock": FrozenClock(NOW),
        "calendars": {"default": {"always_open": True}},
    }
    try:
        app = create_app(web=False, **settings)
    except TypeError:  # a checkout from before web=False, measured as the baseline
        app = create_app(**settings)
    spoc = spoc_of(app)
    spoc.upgrade_database()
    with spoc.db.engine.begin() as connection:
        for table in (*TABLES, "team_members", "contacts", "agents", "teams"):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - the bench's own names
    owner = spoc.directory.add_agent(email="bench@example.org", name="Bench", role="agent").id
    members = [
        spoc.directory.add_agent(email=f"s{n}@example.org", name=f"S{n}", role="specialist").id
        for n in range(2)
    ]
    # Each escalation assigns a member and mails the team: outbox rows are written too.
    spoc.directory.add_team(key="specialists", name="Specialists", members=members)
    with spoc.db.transaction() as session:
        contact = session.execute(
            text(
                "INSERT INTO contacts (email, name, language, attributes, created_at) "
                "VALUES ('c@example.com', 'C', 'en', '{}', :now) RETURNING id"
            ),
            {"now": NOW},
        ).scalar_one()

    def pair(case: str) -> tuple[int, int]:
        total, due = (int(n) for n in case.split(":"))
        return total, due

    cases = [(*pair(case), True) for case in args.cases.split(",")]
    if args.baseline:
        cases.append((*pair(args.baseline), False))
    timings: dict[tuple[int, int, bool], tuple[float, int]] = {}
    print(f"backend {spoc.db.engine.dialect.name}, load average {os.getloadavg()[0]:.2f}")
    header = ("open", 9), ("due", 6), ("path", 10), ("load s", 8), ("sweep s", 8), ("escalated", 9)
    print(
        " ".join(f"{name:>{width}}" for name, width in header),
        f"{'ms/escalation':>13}  rows written (escalations/timeline/clock events/outbox)",
    )
    for total, due, set_based in cases:
        loaded = load(spoc, total, due, contact, owner)
        seconds, escalated = sweep(spoc, due, set_based=set_based)
        per = f"{seconds / escalated * 1000:13.2f}" if escalated else f"{'-':>13}"
        path = "set-based" if set_based else "one-by-one"
        print(
            f"{total:>9} {due:>6} {path:>10} {loaded:8.1f} {seconds:8.3f} {escalated:>9} {per}  "
            + "/".join(str(n) for n in written(spoc))
        )
        timings[(total, due, set_based)] = (seconds, escalated)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    with_1000 = sorted(total for total, due, set_based in timings if due == 1000 and set_based)
    if len(with_1000) > 1:
        small, large = with_1000[0], with_1000[-1]
        print(
            f"ratio of the {large:,} pass to the {small:,} pass (1,000 due each): "
            f"{timings[(large, 1000, True)][0] / timings[(small, 1000, True)][0]:.2f}"
        )
    for (total, due, set_based), (seconds, escalated) in timings.items():
        if set_based or not escalated:
            continue
        old = seconds / escalated
        for (other, other_due, mine), (new_seconds, new_escalated) in timings.items():
            if mine and other == total and new_escalated:
                new = new_seconds / new_escalated
                print(
                    f"set-based / one-by-one, ms per escalation, {other:,} open: "
                    f"{new * 1000:.2f} ({other_due:,} due) / {old * 1000:.2f} ({due:,} due) "
                    f"= {new / old:.2f}"
                )


def written(spoc: Spoc) -> list[int]:
    with spoc.db.engine.connect() as connection:
        return [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in ("escalations", "timeline_events", "sla_clock_events", "outbox_messages")
        ]


if __name__ == "__main__":
    main()
