"""Reports at scale: seed requests, their timeline and their report facts in bulk, then time
every report page as a viewer opens it.

    .venv/bin/python bench/reports.py                       # 1M requests, 10M events, SQLite
    .venv/bin/python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch
    .venv/bin/python bench/reports.py --requests 100000     # a quick run (10 events each)

Seeds ``--requests`` requests spread over the year up to now (a contact per 20),
``--events`` timeline events each (created, assigned, replies, status changes), one
escalation per ten requests, and the report facts of every request, consistent with them
(80% resolved, a fifth rated and three in ten ratings with a comment, breaches, reopens).
Seeding is a bulk insert straight into the tables (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), NOT through the services, and the facts are written with the rows, not by
``spoc reports rebuild`` (which folds every request; ``--rebuild`` times it on the first N
requests). ``--reuse`` skips seeding a database an earlier run seeded.

Then it logs every day as changed (as the migration does), times the 28-day page read from
the facts, lets the worker build every day's roll-up (timed), and times, as a signed-in
viewer, the Reports page for the last 28 days and for a quarter, a narrowed page, every
section of the API, a table's CSV and the first 10,000 rows of the per-request export;
median and p90 of ``--runs`` runs each. Target: under 200 ms a page. Use a scratch
database: the script migrates it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _bulk import after_bulk, bulk_insert, request_row  # bench/, beside this script
from sqlalchemy import text

from spoc import Actor, Role, create_app
from spoc.core.domain.models import (
    Contact,
    Escalation,
    EscalationFact,
    Feedback,
    Request,
    RequestFact,
    TimelineEvent,
)
from spoc.core.domain.reports.dirty import mark_all_dirty
from spoc.core.services import spoc_of
from spoc.testing import sign_in

NOW = datetime.now(UTC)  # the app reads the real clock: the data leads up to today
DAYS = 365
CHANNELS = ("portal", "portal", "portal", "email", "email", "api", "proactive", "phone")
PRIORITIES = ("P1", "P2", "P3", "P3", "P3", "P4")
DATA: dict[str, dict[str, Any]] = {
    "created": {"status": "new", "owner_agent_id": None},
    "status_changed": {"from": "new", "to": "open"},
    "message": {"visibility": "public"},
}
TARGETS = {"P1": (1800, 14400), "P2": (7200, 28800), "P3": (14400, 86400), "P4": (28800, 144000)}


def seed(spoc: Any, total: int, per_request: int, rng: random.Random) -> tuple[float, int]:
    """Contacts, a team, requests, timeline events, escalations and facts; seconds and events."""
    db = spoc.db
    started = time.monotonic()
    contacts = max(1, total // 20)
    bulk_insert(
        db,
        Contact.__table__,  # type: ignore[arg-type]
        [
            {
                "id": i,
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "language": "en",
                "attributes": {},
                "created_at": NOW,
            }
            for i in range(1, contacts + 1)
        ],
    )
    team = spoc.directory.add_team(key="billing", name="Billing", members=[])
    agents = [
        spoc.directory.add_agent(email=f"spoc{n}@example.org", name=f"Spoc {n}", role=Role.AGENT)
        for n in range(20)
    ]
    events = 0
    escalation_id = 0
    chunk = 10_000
    for first in range(1, total + 1, chunk):
        requests, timeline, escalations, facts, escalation_facts = [], [], [], [], []
        feedback = []
        for i in range(first, min(total, first + chunk - 1) + 1):
            at = NOW - timedelta(seconds=rng.randrange(DAYS * 86400))
            priority = rng.choice(PRIORITIES)
            fr_target, res_target = TARGETS[priority]
            resolved = rng.random() < 0.8
            status = "closed" if resolved and rng.random() < 0.5 else "resolved"
            status = status if resolved else rng.choice(("new", "open", "waiting"))
            owner = rng.choice(agents).id
            fr = int(rng.expovariate(1 / (fr_target * 0.6)))
            res = int(rng.expovariate(1 / (res_target * 0.5))) + fr if resolved else None
            resolved_at = at + timedelta(seconds=(res or 0) * 3) if resolved else None
            escalated = rng.random() < 0.1
            reopens = 1 if resolved and rng.random() < 0.05 else 0
            rating = (
                rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if resolved and rng.random() < 0.2 else None
            )
            requests.append(
                request_row(
                    i,
                    f"Request {i}",
                    {"summary": f"Request {i}"},
                    1 + i % contacts,
                    at,
                    status=status,
                    priority=priority,
                    owner_agent_id=owner,
                    resolved_at=resolved_at,
                )
            )
            for seq in range(1, per_request + 1):
                kind = ("created", "assigned", "message", "status_changed")[min(seq - 1, 3)]
                kind = "message" if seq > 4 and seq % 2 else kind
                timeline.append(
                    {
                        "request_id": i,
                        "seq": seq,
                        "kind": kind,
                        "visibility": "public",
                        "actor_kind": "agent" if seq > 1 else "requester",
                        "actor_id": owner if seq > 1 else None,
                        "actor_name": "Spoc",
                        "summary": kind,
                        "data": DATA.get(kind, {}) | ({"priority": priority} if seq == 1 else {}),
                        "at": at + timedelta(minutes=seq),
                    }
                )
            events += per_request
            open_seconds = None
            if escalated:
                escalation_id += 1
                open_seconds = int(rng.expovariate(1 / 10800))
                escalations.append(
                    {
                        "id": escalation_id,
                        "request_id": i,
                        "level": 1,
                        "to_team_id": team.id,
                        "reason": "help",
                        "trigger": "manual",
                        "opened_at": at,
                        "handed_back_at": at + timedelta(seconds=open_seconds),
                    }
                )
                escalation_facts.append(
                    {
                        "escalation_id": escalation_id,
                        "request_id": i,
                        "level": 1,
                        "team_id": team.id,
                        "trigger": "manual",
                        "opened_at": at,
                        "opened_day": at.date(),
                        "handed_back_at": at + timedelta(seconds=open_seconds),
                        "open_seconds": open_seconds,
                        "ola_target": 14400,
                        "ola_breached": open_seconds > 14400,
                    }
                )
            if rating is not None:
                comment = "Quick and kind, thank you" if rng.random() < 0.3 else ""
                feedback.append(
                    {"request_id": i, "rating": rating, "comment": comment, "created_at": at}
                )
            facts.append(
                {
                    "request_id": i,
                    "type_key": "generic.question",
                    "plugin": "generic",
                    "private": False,
                    "channel": rng.choice(CHANNELS),
                    "priority": priority,
                    "status": status,
                    "is_open": not resolved,
                    "owner_agent_id": owner,
                    "owner_team_id": None,
                    "subject_id": None,
                    "created_at": at,
                    "created_day": at.date(),
                    "resolved_at": resolved_at,
                    "resolved_day": resolved_at.date() if resolved_at else None,
                    "ever_resolved": resolved,
                    "first_response_seconds": fr,
                    "first_response_target": fr_target,
                    "first_response_breached": fr > fr_target,
                    "resolution_seconds": res,
                    "resolution_target": res_target,
                    "resolution_breached": bool(res and res > res_target),
                    "escalations": int(escalated),
                    "max_level": int(escalated),
                    "specialist_seconds": open_seconds,
                    "reopens": reopens,
                    "staff_replies": 1,
                    "first_contact": resolved and not escalated and not reopens,
                    "rating": rating,
                    "rated_day": resolved_at.date() if rating and resolved_at else None,
                }
            )
        bulk_insert(db, Request.__table__, requests)  # type: ignore[arg-type]
        bulk_insert(db, TimelineEvent.__table__, timeline)  # type: ignore[arg-type]
        bulk_insert(db, Escalation.__table__, escalations)  # type: ignore[arg-type]
        bulk_insert(db, RequestFact.__table__, facts)  # type: ignore[arg-type]
        bulk_insert(db, EscalationFact.__table__, escalation_facts)  # type: ignore[arg-type]
        bulk_insert(db, Feedback.__table__, feedback)  # type: ignore[arg-type]
    after_bulk(db, ["requests", "timeline_events", "escalations", "contacts"])
    return time.monotonic() - started, events


def timed(run: Any, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.9) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10, help="Timeline events per request")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=11, help="Runs of each page")
    parser.add_argument("--rebuild", type=int, default=0, help="Time a rebuild of N requests")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="The database (--database-url) was seeded by an earlier run: only time the pages",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spoc-reports-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app(env="dev", database_url=url, plugins=["generic"], instance_path=str(folder))
    spoc = spoc_of(app)
    spoc.upgrade_database()
    backend = spoc.db.engine.dialect.name
    if not args.reuse:
        rng = random.Random(42)
        seconds, events = seed(spoc, args.requests, args.events, rng)
        print(f"{backend}: seeded {args.requests} requests, {events} timeline events and their")
        print(f"facts in {seconds:.1f} s (bulk)")
    if args.rebuild:
        started = time.monotonic()
        # Imported here: only this optional measurement folds requests itself.
        from spoc.core.domain.reports.facts import load_sources, store

        ids = list(range(1, args.rebuild + 1))
        with spoc.db.transaction() as session:
            store(session, spoc.reports.folder, load_sources(session, ids))
        print(f"rebuild of {args.rebuild} requests: {time.monotonic() - started:.1f} s")
    viewer = spoc.directory.agent_by_email("viewer@example.org") or spoc.directory.add_agent(
        email="viewer@example.org", name="Val", role=Role.VIEWER
    )
    client = app.test_client()
    sign_in(client, spoc, viewer)
    _, token = spoc.tokens.create(Actor.system("bench"), viewer.email, "bench")
    api = {"Authorization": f"Bearer {token}"}
    today = NOW.astimezone(spoc.settings.tz).date()
    quarter = f"from={today - timedelta(days=90)}&to={today}"
    pages: dict[str, tuple[str, dict[str, str]]] = {
        "Reports page, 28 days": ("/console/reports", {}),
        "Reports page, a quarter": (f"/console/reports?{quarter}", {}),
        "narrowed (P3, email)": ("/console/reports?priority=P3&channel=email", {}),
        "volume-by-day CSV": ("/console/reports/volume-by-day.csv", {}),
        "export, first 10,000 rows": ("/console/reports/requests.csv", {}),
    }
    for key in ("volume", "times", "escalations", "quality", "load", "csat", "knowledge"):
        pages[f"API section {key}"] = (f"/api/v1/reports/sections/{key}", api)
    # Bulk-loaded facts bypassed the write path: log every day, as a migration or a rebuild
    # does, then time the 28-day page read from the facts before the roll-up is built.
    mark_all_dirty(spoc.db)
    print(f"{'page':44} {'median':>9} {'p90':>9}")
    page = pages["Reports page, 28 days"]
    median, p90 = timed(lambda: client.get(page[0]).get_data(), min(args.runs, 3))
    print(f"{'Reports page, 28 days, from the facts':44} {median:7.1f}ms {p90:7.1f}ms")
    started = time.monotonic()
    days = spoc.reports.roll_up(max_days=None)
    rolled = time.monotonic() - started
    print(f"roll-up of {days} days by the worker: {rolled:.1f} s")
    if backend == "postgresql":
        # What autovacuum does after a bulk load: the visibility map that index-only scans
        # need, and fresh statistics.
        with spoc.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    baseline = median
    for label, (path, headers) in pages.items():

        def run(path: str = path, headers: dict[str, str] = headers, label: str = label) -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (label, response.status_code)
            if label.startswith("export"):
                for n, _line in enumerate(response.response):
                    if n >= 10_000:
                        break
                response.close()
            else:
                response.get_data()

        median, p90 = timed(run, args.runs)
        print(f"{label:44} {median:7.1f}ms {p90:7.1f}ms")
        if label == "Reports page, 28 days":
            print(f"{'  ratio to the page read from the facts':44} {median / baseline:9.3f}")


if __name__ == "__main__":
    main()
