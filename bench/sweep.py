"""Sweep cost follows what is due, not what is open.

    .venv/bin/python bench/sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

For 10k, 100k and 1M open requests with the same 1,000 of them due (a breached resolution
clock each), time one sweep pass that handles all 1,000 (warning, breach, escalation to the
specialist team, timeline and clock log, each in its own locked transaction). Then 1M open with
10,000 due, and a pass with nothing due at 1M. Rows are bulk-loaded with SQL; the sweep is
the real one. Use a scratch database: the script truncates the tables it loads.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from spoc import FrozenClock, create_app
from spoc.core.services import Spoc, spoc_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TABLES = (
    "sla_clock_events, sla_clocks, escalation_triggers, escalations, timeline_events, "
    "messages, tracking_tokens, requests"
)


def load(spoc: Spoc, total: int, due: int) -> float:
    started = time.perf_counter()
    with spoc.db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        connection.execute(
            text(
                """
                INSERT INTO requests (type_key, summary, fields, priority, status, contact_id,
                    owner_agent_id, escalation_level, version, created_at, updated_at,
                    next_due_at, deadline_at)
                SELECT 'generic.question', 'Question ' || g, '{}', 'P3', 'open', :contact,
                    :agent, 0, 1, :created, :created,
                    CASE WHEN g <= :due THEN :past ELSE :future END,
                    CASE WHEN g <= :due THEN :past ELSE :future END
                FROM generate_series(1, :total) AS g
                """
            ),
            {
                "contact": 1,
                "agent": 1,
                "due": due,
                "total": total,
                "created": NOW - timedelta(hours=25),
                "past": NOW - timedelta(minutes=1),
                "future": NOW + timedelta(days=2),
            },
        )
        connection.execute(
            text(
                """
                INSERT INTO sla_clocks (request_id, kind, calendar, target_seconds, warn_seconds,
                    paused_seconds, state, started_at, due_at, warn_at)
                SELECT g, 'resolution', 'always_open', 86400, 64800, 0, 'running',
                    :started, :past, :warn
                FROM generate_series(1, :due) AS g
                """
            ),
            {
                "due": due,
                "started": NOW - timedelta(hours=25),
                "past": NOW - timedelta(minutes=1),
                "warn": NOW - timedelta(hours=7),
            },
        )
        connection.execute(text("ANALYZE requests"))
        connection.execute(text("ANALYZE sla_clocks"))
    return time.perf_counter() - started


def sweep(spoc: Spoc, due: int) -> tuple[float, int]:
    started = time.perf_counter()
    report = spoc.sweep(limit=max(due, 1))
    return time.perf_counter() - started, report.escalated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    app = create_app(
        env="test",
        database_url=args.database_url,
        plugins=["generic"],
        clock=FrozenClock(NOW),
        calendars={"default": {"always_open": True}},
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    with spoc.db.engine.begin() as connection:
        connection.execute(text("TRUNCATE contacts, agents, teams RESTART IDENTITY CASCADE"))
    spoc.directory.add_agent(email="bench@example.org", name="Bench", role="agent")
    spoc.directory.add_team(key="specialists", name="Specialists")
    with spoc.db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO contacts (email, name, language, attributes, created_at) "
                "VALUES ('c@example.com', 'C', 'en', '{}', :now)"
            ),
            {"now": NOW},
        )

    sizes = [int(s) for s in args.sizes.split(",")]
    timings = {}
    header = ("open", 9), ("due", 6), ("load s", 8), ("sweep s", 8), ("escalated", 9)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'ms/escalation':>13}")
    for total, due in [*((n, 1000) for n in sizes), (sizes[-1], 10_000), (sizes[-1], 0)]:
        loaded = load(spoc, total, due)
        seconds, escalated = sweep(spoc, due)
        per = f"{seconds / escalated * 1000:13.2f}" if escalated else f"{'-':>13}"
        print(f"{total:>9} {due:>6} {loaded:8.1f} {seconds:8.3f} {escalated:>9} {per}")
        timings[(total, due)] = seconds
    small, large = (sizes[0], 1000), (sizes[-1], 1000)
    print(
        f"ratio of the {sizes[-1]:,} pass to the {sizes[0]:,} pass (1,000 due each): "
        f"{timings[large] / timings[small]:.2f}"
    )


if __name__ == "__main__":
    main()
