"""The sweep pass that starts cover: an agent owning 10,000 open requests among 1M goes away.

    .venv/bin/python bench/cover.py --requests 1000000 --owned 10000
    .venv/bin/python bench/cover.py --requests 1000000 --owned 10000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Seeds ``--requests`` open requests (bulk: ``executemany`` on SQLite, ``COPY`` on PostgreSQL,
NOT through the request service — that path costs milliseconds a request), of which
``--owned`` belong to one SPOC across 1,000 subjects that each have a deputy; then the SPOC's
absence begins and one real sweep pass (``spoc.sweep()``) gives every one of their requests a
cover, writes its timeline event and queues its requester's mail. Prints the seeding time and
the pass's time (target: under 5 s on PostgreSQL). Use a scratch database: it is migrated.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _bulk import after_bulk, bulk_insert, request_row  # bench/, beside this script
from sqlalchemy import create_engine, func, select, text

from spoc import Role, create_app
from spoc.core.domain.models import Contact, OutboxMessage, Request
from spoc.core.kernel.clock import FrozenClock
from spoc.core.services import Spoc, spoc_of

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUBJECTS = 1000
CHUNK = 20_000


def seed(spoc: Spoc, total: int, owned: int, owner: int, others: list[int]) -> float:
    started = time.monotonic()
    subjects = [
        spoc.directory.add_subject(
            kind="generic.account", name=f"Account {n}", spoc_agent_id=owner, deputies=[others[0]]
        ).id
        for n in range(SUBJECTS)
    ]
    contacts = max(1, total // 20)
    db = spoc.db
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
    for start in range(1, total + 1, CHUNK):
        rows = []
        for i in range(start, min(total, start + CHUNK - 1) + 1):
            mine = i % (total // owned) == 0 and i // (total // owned) <= owned
            rows.append(
                request_row(
                    i,
                    f"Question {i}",
                    {"summary": f"Question {i}", "details": ""},
                    1 + i % contacts,
                    NOW,
                    subject_id=subjects[i % SUBJECTS] if mine else None,
                    owner_agent_id=owner if mine else others[i % len(others)],
                )
            )
        bulk_insert(db, Request.__table__, rows)  # type: ignore[arg-type]
    after_bulk(db, ["requests", "contacts"])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--owned", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spoc-bench-cover-"))
    url = args.database_url or f"sqlite:///{folder / 'cover.sqlite'}"
    if url.startswith("postgresql"):
        scratch = create_engine(url)
        with scratch.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        scratch.dispose()
    clock = FrozenClock(NOW)
    app = create_app(
        env="test",
        database_url=url,
        plugins=["generic"],
        instance_path=folder,
        clock=clock,
        calendars={"default": {"always_open": True}},
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    owner = spoc.directory.add_agent(email="dana@example.org", name="Dana Reyes", role=Role.AGENT)
    others = [
        spoc.directory.add_agent(email=f"a{n}@example.org", name=f"Agent {n}", role=Role.AGENT).id
        for n in range(20)
    ]
    spoc.directory.add_team(key="desk", name="Service desk")
    seconds = seed(spoc, args.requests, args.owned, owner.id, others)
    with spoc.db.reader() as session:
        mine = session.scalar(
            select(func.count()).select_from(Request).where(Request.owner_agent_id == owner.id)
        )
    print(f"backend {spoc.db.engine.dialect.name}: {args.requests} open requests, {mine} owned")
    print(f"seeded in {seconds:.1f} s")
    today = spoc.requests.today()
    spoc.directory.add_absence(owner.id, today, today + timedelta(days=7))
    started = time.perf_counter()
    report = spoc.sweep()
    elapsed = time.perf_counter() - started
    with spoc.db.reader() as session:
        mails = session.scalar(select(func.count()).select_from(OutboxMessage))
    print(
        f"sweep pass starting cover: {elapsed:.2f} s, {report.covered} requests covered, "
        f"{mails} mails queued"
    )
    spoc.db.dispose()


if __name__ == "__main__":
    main()
