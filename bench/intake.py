"""Intake throughput: requests filed through the real portal form, served by gunicorn.

    .venv/bin/python bench/intake.py [--requests N] [--concurrency 16,1] [--workers W]

Starts gunicorn (sync workers) on 127.0.0.1 twice per concurrency with the same settings:
once with SPOC (each submission GETs the form, then POSTs it with its CSRF token:
validation, contact matching, classification, routing, timeline, tracking token,
confirmation mail to the log), once with a bare Flask form endpoint (GET, then a POST that
checks two fields). Prints submissions/s, p50 and p99 of GET+POST and of the POST alone,
and the ratio portal / bare (target 0.6). Traffic stays on 127.0.0.1; the run stops itself.
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
        "sync",
        "--log-level",
        "warning",
    ]
    # Run from the scratch folder: the working directory would come first on the path.
    return subprocess.Popen(command, cwd=env["SPOC_INSTANCE_PATH"], env=env)  # noqa: S603


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


def run(port: int, total: int, concurrency: int, portal: bool) -> list[tuple[float, float]]:
    """``total`` submissions, each a GET of the form and its POST; (both, POST) seconds each."""
    clients = [Client(port) for _ in range(concurrency)]
    form = "/new/generic.question" if portal else "/submit"

    def submit(index: int) -> tuple[float, float]:
        client = clients[index % concurrency]
        start = time.perf_counter()
        if portal:
            client.prepare()  # GET the form: its CSRF token
        else:
            status, _ = client.call("GET", form)
            assert status == 200, status
        fields = {
            "summary": f"Where is invoice {index}?",
            "details": "Bench",
            "requester_name": "Bench Requester",
            "requester_email": f"bench{index % 200}@example.com",
            "email": "bench@example.com",
        }
        if portal:
            fields["csrf_token"] = client.token
        posted = time.perf_counter()
        status, _ = client.call("POST", form, urlencode(fields))
        done = time.perf_counter()
        if status != 303:
            raise RuntimeError(f"submission {index} answered {status}")
        return done - start, done - posted

    # Each client is used by one thread at a time: index % concurrency.
    latencies: list[tuple[float, float]] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for chunk_start in range(0, total, concurrency):
            batch = range(chunk_start, min(total, chunk_start + concurrency))
            latencies.extend(pool.map(submit, batch))
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def summary(label: str, latencies: list[tuple[float, float]], wall: float) -> float:
    rate = len(latencies) / wall
    both, post = [b for b, _ in latencies], [p for _, p in latencies]
    print(
        f"{label:<8} {len(latencies):>6} submissions  {rate:8.1f} /s  "
        f"GET+POST p50 {statistics.median(both) * 1000:7.2f} ms "
        f"p99 {percentile(both, 0.99):7.2f} ms  "
        f"POST p50 {statistics.median(post) * 1000:6.2f} ms p99 {percentile(post, 0.99):7.2f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", default="16,1", help="client threads, one run each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout whose SPOC is measured (a baseline)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "spoc").symlink_to((args.code / "spoc").resolve())
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        env = {
            **os.environ,
            "SPOC_ENV": "test",
            "SPOC_SECRET_KEY": "bench-only-secret-" + os.urandom(8).hex(),
            "SPOC_DATABASE_URL": url,
            "SPOC_PLUGINS": "generic",
            "SPOC_INSTANCE_PATH": tmp,
            "SPOC_PORTAL_SUBMIT_LIMIT": "1000000 per minute",
            # The spoc package measured (--code), then this checkout's bench/ apps.
            "PYTHONPATH": f"{code}:{ROOT}",
        }
        subprocess.run(
            [sys.executable, "-m", "spoc", "db", "upgrade"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=tmp,
        )
        levels = [int(c) for c in args.concurrency.split(",")]
        print(
            f"{args.requests} submissions (GET form + POST) per run, gunicorn {args.workers} sync "
            f"workers, database {url.split(':')[0]}, load average {os.getloadavg()[0]:.2f}"
        )
        for concurrency in levels:
            rates = {}
            for label, target, portal in (
                ("portal", "bench._apps:portal_app()", True),
                ("bare", "bench._apps:bare_app()", False),
            ):
                port = free_port()
                server = gunicorn(target, port, args.workers, env)
                try:
                    wait_for(port)
                    run(port, min(50, args.requests), concurrency, portal)  # warm-up
                    start = time.perf_counter()
                    latencies = run(port, args.requests, concurrency, portal)
                    rates[label] = summary(
                        f"{label} c={concurrency}", latencies, time.perf_counter() - start
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=30)
            print(
                f"ratio    portal / bare at c={concurrency} = {rates['portal'] / rates['bare']:.2f}"
            )


if __name__ == "__main__":
    main()
