"""The healthcare access log: what one logged staff read costs, and how fast a chain verifies.

    .venv/bin/python bench/access_log.py --entries 20000
    .venv/bin/python bench/access_log.py --entries 20000 --threads 4 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Appends ``--entries`` reads through the plugin's real ``audit.append`` (head row locked, hash
over the previous hash and the row, one transaction each) from ``--threads`` threads at once,
then verifies the whole chain with ``audit.verify`` and checks it is unbroken. Use a scratch
database: the script migrates it and empties the log first.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from spoc import Actor, Role, StaffAccess, create_app
from spoc.core.services import spoc_of
from spoc.plugins.healthcare import audit
from spoc.plugins.healthcare.models import AccessEntry, ChainHead

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    app = create_app(
        env="test",
        database_url=url,
        plugins=["generic", "healthcare"],
        instance_path=tempfile.mkdtemp(),
        secret_key=secrets.token_urlsafe(32),
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    with spoc.db.transaction() as session:
        session.execute(delete(AccessEntry))
        session.execute(delete(ChainHead))
    audit.chain_of(spoc).forget_anchor()
    actor = Actor.agent(1, Role.AGENT, "Dana Reyes")
    per_thread = args.entries // args.threads
    timings: list[float] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        mine = []
        for n in range(per_thread):
            access = StaffAccess(
                actor=actor,
                what="request",
                channel="console",
                own=n % 10 != 0,
                at=NOW + timedelta(seconds=offset + n),
                request_id=n + 1,
                subject_id=(n % 500) + 1,
                reason=None if n % 10 else "covering the ward desk",
            )
            started = time.perf_counter()
            audit.append(spoc, access)
            mine.append(time.perf_counter() - started)
        with lock:
            timings.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i * per_thread,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    timings.sort()
    total = len(timings)
    print(f"backend: {spoc.db.engine.dialect.name}, threads: {args.threads}")
    print(
        f"append: {total} reads in {elapsed:.1f} s = {total / elapsed:,.0f}/s, "
        f"p50 {statistics.median(timings) * 1000:.1f} ms, "
        f"p99 {timings[int(total * 0.99) - 1] * 1000:.1f} ms"
    )
    started = time.perf_counter()
    verdict = audit.verify(spoc)
    took = time.perf_counter() - started
    print(
        f"verify: {verdict.rows} rows in {took:.2f} s = {verdict.rows / took:,.0f} rows/s, "
        f"{'intact' if verdict.ok else 'BROKEN: ' + '; '.join(verdict.problems[:3])}"
    )
    spoc.db.dispose()


if __name__ == "__main__":
    main()
