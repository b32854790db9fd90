"""Rate-limit overhead: hits/s of the shared SQLite store against the per-process memory one.

    .venv/bin/python bench/ratelimit.py --hits 20000

Each hit is what Flask-Limiter does for a limited request with headers on: one moving-window
``hit`` and one ``get_window_stats``, on 50 client keys under "600 per minute" (the API's
default), single thread. Prints hits/s for each store and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from spoc.core.web.ratelimit_store import storage_uri


def rate(storage: Storage, hits: int) -> float:
    limiter = MovingWindowRateLimiter(storage)
    item = parse("600 per minute")
    start = time.perf_counter()
    for i in range(hits):
        key = f"client-{i % 50}"
        limiter.hit(item, key)
        limiter.get_window_stats(item, key)
    return hits / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hits", type=int, default=20_000)
    args = parser.parse_args()
    threads_before = threading.active_count()
    memory = rate(MemoryStorage(), args.hits)
    memory_threads = threading.active_count() - threads_before
    with tempfile.TemporaryDirectory() as folder:
        store = storage_from_string(storage_uri(Path(folder) / "limits.sqlite"))
        assert isinstance(store, Storage)
        sqlite = rate(store, args.hits)
    print(f"memory (per worker):        {memory:10.0f} hits/s, {memory_threads} timer threads")
    print(f"spoc+sqlite (whole server): {sqlite:10.0f} hits/s, no threads")
    print(f"ratio sqlite / memory:      {sqlite / memory:10.2f}")
    print(f"per limited request:        {1e6 / sqlite:10.0f} µs with the shared store")


if __name__ == "__main__":
    main()
