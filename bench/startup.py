"""Start-up time and worker memory.

    .venv/bin/python bench/startup.py [--runs 7] [--baseline PATH_TO_OTHER_CHECKOUT]

Times, in fresh processes, ``spoc --help`` and ``spoc sweep`` against a SQLite database with
nothing due (all plugins enabled, as a deployment runs them), and the resident memory (RSS) of
a process that built the app and filed 200 requests through the portal form — against a bare
Flask app that answered the same number of form posts, in the same run. With ``--baseline``
the same figures are measured for another checkout (``PYTHONPATH`` pointing at it), in the
same sitting, and the ratios are printed. Absolute times on a shared machine drift by ±20 %.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = "generic,healthcare,logistics,events,projects"

MEMORY_PROBE = """
import re, sys
from pathlib import Path

def rss() -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\\s+(\\d+) kB", text).group(1)) / 1024

kind = sys.argv[1]
if kind == "bare":
    from flask import Flask, redirect, request
    app = Flask("bare")
    @app.post("/submit")
    def submit():
        if not request.form.get("summary") or "@" not in request.form.get("email", ""):
            return "invalid", 422
        return redirect("/done", code=303)
    client = app.test_client()
    for i in range(200):
        assert client.post("/submit", data={"summary": "s", "email": "a@b.c"}).status_code == 303
else:
    from spoc import create_app
    app = create_app()
    client = app.test_client()
    for i in range(200):
        html = client.get("/new/generic.question").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        answer = client.post("/new/generic.question", data={
            "csrf_token": token, "summary": f"Where is invoice {i}?", "details": "Bench",
            "requester_name": "Bench Requester", "requester_email": f"b{i % 50}@example.com",
        })
        assert answer.status_code == 303, answer.status_code
print(f"{rss():.1f}")
"""


def run(command: list[str], env: dict[str, str], **more: Any) -> subprocess.CompletedProcess[str]:
    # Run from outside any checkout: `python -m` puts the working directory first on the path,
    # ahead of PYTHONPATH, which chooses the code measured.
    return subprocess.run(  # noqa: S603
        command, env=env, check=True, cwd=env["SPOC_INSTANCE_PATH"], text=True, **more
    )


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run(command, env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_of(runs: int, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    walls, cpus = zip(*(timed(command, env) for _ in range(runs)), strict=True)
    return statistics.median(walls), statistics.median(cpus)


def measure(label: str, pythonpath: Path, runs: int, tmp: Path) -> dict[str, float]:
    url = f"sqlite:///{tmp / f'{label}.sqlite'}"
    env = {
        **os.environ,
        "SPOC_ENV": "test",
        "SPOC_SECRET_KEY": "bench-only-secret-" + os.urandom(8).hex(),
        "SPOC_DATABASE_URL": url,
        "SPOC_PLUGINS": PLUGINS,
        "SPOC_INSTANCE_PATH": str(tmp / label),
        "SPOC_PORTAL_SUBMIT_LIMIT": "1000000 per minute",
        "PYTHONPATH": str(pythonpath),
        # As installed: modules compiled once, not at every start (the upgrade below writes
        # the bytecode), kept out of the source tree.
        "PYTHONPYCACHEPREFIX": str(tmp / f"{label}-pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (tmp / label).mkdir()
    spoc = [sys.executable, "-m", "spoc"]
    run([*spoc, "db", "upgrade"], env, stdout=subprocess.DEVNULL)
    run([*spoc, "--help"], env, stdout=subprocess.DEVNULL)
    figures: dict[str, float] = {}
    for name, command in (
        ("import spoc", [sys.executable, "-c", "import spoc"]),
        ("spoc --help", [*spoc, "--help"]),
        ("spoc sweep", [*spoc, "sweep"]),
    ):
        figures[name], figures[f"{name} CPU"] = median_of(runs, command, env)
    for kind in ("spoc", "bare"):
        out = run([sys.executable, "-c", MEMORY_PROBE, kind], env, capture_output=True).stdout
        figures[f"RSS {kind}"] = float(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout's root")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; plugins {PLUGINS}; median of {args.runs}")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        results = {"this": measure("this", ROOT, args.runs, tmp)}
        if args.baseline is not None:
            results["baseline"] = measure("baseline", args.baseline.resolve(), args.runs, tmp)
    units = {"RSS spoc": "MiB", "RSS bare": "MiB"}
    header = f"{'figure':<14} {'this':>10}"
    if "baseline" in results:
        header += f" {'baseline':>10} {'this/base':>10}"
    print(header)
    for name, value in results["this"].items():
        unit = units.get(name, "s")
        line = f"{name:<14} {value:>8.3f} {unit:<3}"
        if "baseline" in results:
            base = results["baseline"][name]
            line += f" {base:>8.3f} {unit:<3} {value / base:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
