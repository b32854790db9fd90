"""Assist at scale: suggestion latency per engine at 100k requests, and the worker's
embedding throughput.

    .venv/bin/python bench/assist.py --requests 100000
    .venv/bin/python bench/assist.py --requests 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Seeds ``--requests`` requests in bulk (bench/search.py's generator: summaries, form fields and
one to three messages each, straight into the tables), builds the search index with the real
``spoc.search.rebuild()``, then embeds every request with the real worker path
(``spoc.assist.rebuild``: read the rows, encode, write the vectors), timed against the bare
encoder on the same texts (the baseline: what the database costs on top). Suggestions are
then timed as an agent, as the console and portal ask them: similar requests (top 5), open
duplicates, articles (top 3) and the type proposal, for each engine; the first semantic call
(loading the vectors into memory) is reported apart. Use a scratch database: the script
migrates it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from search import seed  # bench/, beside this script
from sqlalchemy import select, text

from spoc import Actor, Role, create_app
from spoc.core.domain.assist.encoders import encode
from spoc.core.domain.assist.service import OPEN
from spoc.core.domain.assist.vectors import request_texts
from spoc.core.domain.models import Request
from spoc.core.services import spoc_of

DESCRIPTIONS = [
    "my parcel is late and the tracking has not moved",
    "the invoice shows a charge twice, I need a refund",
    "I cannot open the vpn on my laptop, it shows an error",
    "the printer does not work since this morning",
    "please send me a new badge, mine is blocked",
    "the shipment of pallets arrived damaged at the warehouse",
]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile of ``runs`` calls, in milliseconds."""
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.95))]


def analyze(spoc: object) -> None:
    """On PostgreSQL, the planner's statistics of the tables just filled (as after a restore)."""
    assert hasattr(spoc, "db")
    if spoc.db.engine.dialect.name == "postgresql":
        with spoc.db.engine.begin() as conn:
            conn.execute(text("ANALYZE search_documents"))
            conn.execute(text("ANALYZE assist_vectors"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=20, help="Runs of each suggestion")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spoc-assist-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app(env="dev", database_url=url, plugins=["generic"], instance_path=str(folder))
    spoc = spoc_of(app)
    spoc.upgrade_database()
    seconds, messages = seed(spoc, args.requests, random.Random(42))
    print(f"seeded {args.requests} requests, {messages} messages in {seconds:.1f} s (bulk)")
    started = time.monotonic()
    spoc.search.rebuild(batch=1000)
    print(f"search index built in {time.monotonic() - started:.1f} s")
    analyze(spoc)

    # --- the worker's embedding throughput, against the bare encoder --------------------------
    encoder = spoc.assist.encoders["wordllama"]
    with spoc.db.reader() as session:
        sample = list(session.scalars(select(Request).order_by(Request.id).limit(5000)))
        texts = list(request_texts(session, spoc.host, sample).values())
    encode(encoder, texts[:10])  # the model's weights loaded
    started = time.perf_counter()
    encode(encoder, texts)
    bare = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    done = spoc.assist.rebuild("wordllama")
    worker = done / (time.perf_counter() - started)
    analyze(spoc)
    print(
        f"embedding: worker path {worker:,.0f} requests/s ({done} embedded), "
        f"bare encoder {bare:,.0f} texts/s (worker = {worker / bare:.2f} x encoder)"
    )

    # --- suggestion latency -------------------------------------------------------------------
    agent = spoc.directory.add_agent(email="bench@example.org", name="Bench", role=Role.AGENT)
    reader = Actor.agent(agent.id, agent.role, agent.name)
    started = time.perf_counter()
    spoc.assist.similar_requests(reader, DESCRIPTIONS[0], engine="wordllama")
    print(
        f"first semantic call (vectors loaded into memory): {time.perf_counter() - started:.2f} s"
    )
    asks: dict[str, Callable[[str, str], object]] = {
        "similar (top 5)": lambda text, engine: spoc.assist.similar_requests(
            reader, text, engine=engine
        ),
        "open duplicates": lambda text, engine: spoc.assist.similar_requests(
            reader, text, statuses=OPEN, engine=engine
        ),
        "articles (top 3)": lambda text, engine: spoc.assist.articles(text, engine=engine),
        "type proposal": lambda text, engine: spoc.suggestions.types(reader, text, engine=engine),
    }
    baseline = timed(lambda: spoc.search.query(reader, "printer"), args.runs)[0]
    print(f"baseline: full-text search for one word, median {baseline:.1f} ms")
    print(f"{'suggestion':<18} {'engine':<10} {'median':>8} {'p95':>8} {'x search':>9}")
    for name, ask in asks.items():
        for engine in ("lexical", "wordllama"):
            medians, tails = [], []
            for description in DESCRIPTIONS:
                median, tail = timed(lambda a=ask, t=description, e=engine: a(t, e), args.runs)
                medians.append(median)
                tails.append(tail)
            median = statistics.median(medians)
            print(
                f"{name:<18} {engine:<10} {median:7.1f}ms {max(tails):7.1f}ms "
                f"{median / baseline:8.1f}x"
            )


if __name__ == "__main__":
    main()
