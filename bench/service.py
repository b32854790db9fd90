"""Throughput of the request service (the one write path), on SQLite or PostgreSQL.

    .venv/bin/python bench/service.py [--requests N] [--database-url URL]

Files N requests through ``RequestService.create`` (validation, classification, routing,
timeline), then replies to each, and prints operations per second and latency percentiles.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from spoc import Actor, Role, create_app
from spoc.core.services import spoc_of


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, samples: list[float]) -> None:
    total = sum(samples)
    print(
        f"{label:<10} n={len(samples):>6}  {len(samples) / total:8.1f} ops/s  "
        f"p50={percentile(samples, 0.5) * 1000:6.2f} ms  "
        f"p99={percentile(samples, 0.99) * 1000:6.2f} ms  "
        f"mean={statistics.fmean(samples) * 1000:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        spoc = spoc_of(create_app(env="dev", database_url=url, plugins=["generic"]))
        spoc.upgrade_database()
        agent = spoc.directory.add_agent(email=f"b{time.time_ns()}@x.org", name="B", role="agent")
        subject = spoc.directory.add_subject(
            kind="generic.account", name="Bench", spoc_agent_id=agent.id
        )
        actor = Actor.agent(agent.id, Role.AGENT, agent.name)
        creates, replies, ids = [], [], []
        for i in range(args.requests):
            start = time.perf_counter()
            request = spoc.requests.create(
                type_key="generic.question",
                fields={"summary": f"Question number {i}"},
                requester={"name": "Bench", "email": f"bench{i % 50}@example.com"},
                subject_id=subject.id,
            )
            creates.append(time.perf_counter() - start)
            ids.append(request.id)
        for rid in ids:
            start = time.perf_counter()
            spoc.requests.post_message(rid, actor, "Thanks, looking into it.")
            replies.append(time.perf_counter() - start)
        print(f"backend: {spoc.db.engine.dialect.name}")
        report("create", creates)
        report("reply", replies)


if __name__ == "__main__":
    main()
