"""Full-text search at scale: seed requests in bulk, build the index, time typical queries.

    .venv/bin/python bench/search.py --requests 1000000
    .venv/bin/python bench/search.py --requests 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Seeds ``--requests`` requests (generic questions and incidents with realistic summaries and
fields), each with one to three messages, and a contact per 20 requests. The seeding is a bulk
insert straight into the tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL), NOT
through the request service: the service path costs milliseconds a request (bench/service.py),
which would make a million requests a matter of hours. The index is then built by the real
``spoc.search.rebuild()`` (the code behind ``spoc search rebuild``), and typical queries run
through ``spoc.search.query`` as an agent: one rare word, two words, a reference, a common
word (first page only), and a word prefix. Use a scratch database: the script migrates it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _bulk import after_bulk, bulk_insert, request_row  # bench/, beside this script
from sqlalchemy import text

from spoc import Actor, Role, create_app
from spoc.core.domain.models import Contact, Message, Request
from spoc.core.services import spoc_of

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST = [
    "Maria",
    "Tom",
    "Aisha",
    "Jonas",
    "Wei",
    "Priya",
    "Lucas",
    "Sofia",
    "Omar",
    "Elena",
    "Kofi",
    "Hana",
    "Ivan",
    "Chloe",
]
LAST = [
    "Anders",
    "Bright",
    "Khan",
    "Weber",
    "Chen",
    "Patel",
    "Silva",
    "Rossi",
    "Haddad",
    "Novak",
    "Mensah",
    "Sato",
    "Petrov",
]
THINGS = [
    "invoice",
    "printer",
    "laptop",
    "password",
    "account",
    "delivery",
    "parcel",
    "refund",
    "badge",
    "booking",
    "payment",
    "monitor",
    "contract",
    "license",
    "router",
    "vpn",
    "mailbox",
    "shipment",
    "pallet",
    "voucher",
    "ticket",
]
PROBLEMS = [
    "is missing",
    "does not work",
    "was charged twice",
    "arrived damaged",
    "cannot be opened",
    "is late",
    "shows an error",
    "was cancelled",
    "needs an update",
    "is blocked",
]
PHRASES = [
    "Thank you for your patience, we are looking into it.",
    "Could you send us a photo of the label?",
    "I checked with the warehouse and the {thing} left on Monday.",
    "The {thing} {problem} again since this morning.",
    "We have escalated this to the {thing} team.",
    "Please confirm the order number on your {thing} receipt.",
    "Refund issued; it should show within five working days.",
    "The courier says the {thing} {problem}.",
]
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliett",
    "kilo",
    "lima",
]


def sentence(rng: random.Random) -> str:
    return rng.choice(PHRASES).format(thing=rng.choice(THINGS), problem=rng.choice(PROBLEMS))


def seed(spoc: object, total: int, rng: random.Random) -> tuple[float, int]:
    """Bulk rows: contacts, requests, messages. Returns seconds and messages written."""
    assert hasattr(spoc, "db")
    db = spoc.db
    started = time.monotonic()
    contacts = max(1, total // 20)
    messages = 0
    bulk_insert(
        db,
        Contact.__table__,  # type: ignore[arg-type]
        [
            {
                "id": i,
                "email": f"person{i}@example.com",
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "language": "en",
                "attributes": {},
                "created_at": NOW,
            }
            for i in range(1, contacts + 1)
        ],
    )
    chunk = 20_000
    for start in range(1, total + 1, chunk):
        requests, said = [], []
        for i in range(start, min(total, start + chunk - 1) + 1):
            thing, problem = rng.choice(THINGS), rng.choice(PROBLEMS)
            # A few rare words, so some queries have few hits (a code, a name, a place).
            rare = f"{rng.choice(WORDS)}{rng.randrange(1000)}"
            summary = f"The {thing} {problem}"
            fields = {"summary": summary, "details": f"{sentence(rng)} Ref {rare}."}
            requests.append((i, summary, fields, 1 + i % contacts))
            for _ in range(rng.randint(1, 3)):
                said.append((i, sentence(rng)))
        messages += len(said)
        bulk_insert(
            db,
            Request.__table__,  # type: ignore[arg-type]
            [
                request_row(i, summary, fields, contact, NOW)
                for i, summary, fields, contact in requests
            ],
        )
        bulk_insert(
            db,
            Message.__table__,  # type: ignore[arg-type]
            [
                {
                    "request_id": request_id,
                    "visibility": "public",
                    "author_kind": "agent",
                    "body": body,
                    "created_at": NOW,
                }
                for request_id, body in said
            ],
        )
    after_bulk(db, ["requests", "messages", "contacts"])
    return time.monotonic() - started, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=30, help="Runs of each query")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="The database was seeded and indexed by an earlier run: only time the queries",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spoc-search-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app(env="dev", database_url=url, plugins=["generic"], instance_path=str(folder))
    spoc = spoc_of(app)
    spoc.upgrade_database()
    if not args.reuse:
        rng = random.Random(42)
        seconds, messages = seed(spoc, args.requests, rng)
        print(f"seeded {args.requests} requests, {messages} messages in {seconds:.1f} s (bulk)")
        started = time.monotonic()
        done = spoc.search.rebuild(batch=1000)
        print(f"index built: {done} in {time.monotonic() - started:.1f} s")
    if spoc.db.engine.dialect.name == "postgresql":
        with spoc.db.engine.begin() as conn:
            conn.execute(text("ANALYZE search_documents"))
    agent = spoc.directory.agent_by_email("bench@example.org") or spoc.directory.add_agent(
        email="bench@example.org", name="Bench", role=Role.AGENT
    )
    reader = Actor.agent(agent.id, Role.AGENT, "Bench")
    queries = {
        "rare word": "kilo417",
        "two words": "refund photo",
        "reference": spoc.requests.reference(args.requests // 2),
        "common word (page 1)": "invoice",
        "prefix": "shipm",
        "name": "aisha",
    }
    print(f"{'query':24} {'median':>9} {'p90':>9}  first page")
    for label, q in queries.items():
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            page = spoc.search.query(reader, q, limit=20)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{label:24} {statistics.median(times):7.1f}ms {p90:7.1f}ms  {len(page.hits)} hits")


if __name__ == "__main__":
    main()
