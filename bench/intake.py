"""Intake throughput: requests filed through the real portal form, served by gunicorn.

    .venv/bin/python bench/intake.py [--requests N] [--concurrency C] [--workers W]

Starts gunicorn on 127.0.0.1 twice with the same settings: once with SPOC (each submission
is a POST of the generated form with its CSRF token: validation, contact matching,
classification, routing, timeline, tracking token, confirmation mail to the log), once with a
bare Flask endpoint that only checks two fields. Prints requests/s, p50 and p99 for each and
the ratio. Traffic stays on 127.0.0.1 and the run stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on {port}")


def gunicorn(target: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603


class Client:
    """One keep-alive connection with its own cookie (session) and CSRF token."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.token = ""

    def call(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text

    def prepare(self) -> None:
        _, html = self.call("GET", "/new/generic.question")
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found, "no CSRF token in the portal form"
        self.token = found.group(1)


def run(port: int, total: int, concurrency: int, portal: bool) -> list[float]:
    clients = [Client(port) for _ in range(concurrency)]
    if portal:
        for client in clients:
            client.prepare()

    def submit(index: int) -> float:
        client = clients[index % concurrency]
        fields = {
            "summary": f"Where is invoice {index}?",
            "details": "Bench",
            "requester_name": "Bench Requester",
            "requester_email": f"bench{index % 200}@example.com",
            "email": "bench@example.com",
        }
        if portal:
            fields["csrf_token"] = client.token
        path = "/new/generic.question" if portal else "/submit"
        start = time.perf_counter()
        status, _ = client.call("POST", path, urlencode(fields))
        elapsed = time.perf_counter() - start
        if status != 303:
            raise RuntimeError(f"submission {index} answered {status}")
        return elapsed

    # Each client is used by one thread at a time: index % concurrency.
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for chunk_start in range(0, total, concurrency):
            batch = range(chunk_start, min(total, chunk_start + concurrency))
            latencies.extend(pool.map(submit, batch))
    return latencies


def summary(label: str, latencies: list[float], wall: float) -> float:
    ordered = sorted(latencies)
    rate = len(latencies) / wall
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
    print(
        f"{label:<8} {len(latencies):>6} requests  {rate:8.1f} req/s  "
        f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        env = {
            **os.environ,
            "SPOC_ENV": "test",
            "SPOC_SECRET_KEY": "bench-only-secret-" + os.urandom(8).hex(),
            "SPOC_DATABASE_URL": url,
            "SPOC_PLUGINS": "generic",
            "SPOC_INSTANCE_PATH": tmp,
            "SPOC_PORTAL_SUBMIT_LIMIT": "1000000 per minute",
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [sys.executable, "-m", "spoc", "db", "upgrade"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"{args.requests} submissions, concurrency {args.concurrency}, gunicorn gthread "
            f"{args.workers} workers x 4 threads, database {url.split(':')[0]}"
        )
        rates = {}
        for label, target, portal in (
            ("portal", "bench._apps:portal_app()", True),
            ("bare", "bench._apps:bare_app()", False),
        ):
            port = free_port()
            server = gunicorn(target, port, args.workers, env)
            try:
                wait_for(port)
                run(port, min(50, args.requests), args.concurrency, portal)  # warm-up
                start = time.perf_counter()
                latencies = run(port, args.requests, args.concurrency, portal)
                rates[label] = summary(label, latencies, time.perf_counter() - start)
            finally:
                server.terminate()
                server.wait(timeout=30)
        print(f"ratio    bare / portal = {rates['bare'] / rates['portal']:.1f}x")


if __name__ == "__main__":
    main()
