"""How long "email me a link to my requests" takes for a known and an unknown address.

    .venv/bin/python bench/magic_link_timing.py --rounds 400
    .venv/bin/python bench/magic_link_timing.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

POSTs /my-requests through the in-process Flask test client (CSRF, rate limit off), alternating
a known address (a contact with a request) and an unknown one, and prints the median and p90 of
each and the ratio known/unknown. The web request only queues one outbox row either way; the
worker decides later whether to mail. A ratio near 1.00 means the timing tells nothing.
Figures only: it asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from spoc import create_app
from spoc.core.services import spoc_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        app = create_app(
            env="test",
            database_url=url,
            plugins=["generic"],
            portal_magic_link_limit="1000000 per minute",
        )
        spoc = spoc_of(app)
        spoc.upgrade_database()
        for n in range(200):
            spoc.requests.create(
                type_key="generic.question",
                fields={"summary": f"Question {n}", "details": "x"},
                requester={"name": f"Person {n}", "email": f"person{n}@example.com"},
            )
        client = app.test_client()
        html = client.get("/my-requests").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found
        token = found.group(1)
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for n in range(args.rounds * 2):
            kind = "known" if n % 2 else "unknown"
            email = f"person{n % 200}@example.com" if kind == "known" else f"x{n}@example.net"
            start = time.perf_counter()
            response = client.post("/my-requests", data={"csrf_token": token, "email": email})
            elapsed = time.perf_counter() - start
            assert response.status_code == 200
            if n >= 40:  # warm-up
                times[kind].append(elapsed * 1000)
        for kind, values in times.items():
            values.sort()
            p90 = values[int(len(values) * 0.9)]
            print(f"{kind:8} median {statistics.median(values):.2f} ms  p90 {p90:.2f} ms")
        ratio = statistics.median(times["known"]) / statistics.median(times["unknown"])
        print(f"ratio known/unknown (median): {ratio:.3f}")


if __name__ == "__main__":
    main()
