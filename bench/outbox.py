"""The outbox: mails delivered per second, and what a killed worker costs.

    .venv/bin/python bench/outbox.py --mails 2000
    .venv/bin/python bench/outbox.py --mails 2000 --workers 2 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Throughput: queues ``--mails`` mails through the real ``Notifier.mail`` (rendered templates,
sealed bodies), then ``--workers`` threads, each with its own app, deliver them with
``Deliverer.deliver_due`` to a real SMTP server in this process (aiosmtpd) until none is due.

Crash: queues ``--crash-mails`` mails, starts ``spoc outbox deliver`` as a process, lets the
SMTP server hold the ``--kill-at``-th mail it receives (received, not yet answered), SIGKILLs
the process there, and starts a second ``spoc outbox deliver`` at once. It prints how many mails
the second process could not take because the dead one still held them, and then, after the
lease has run out (a clock moved past it), how many went out twice (same Message-ID).
Use a scratch database: the script migrates it and empties the outbox first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, select

from spoc import FrozenClock, create_app
from spoc.core.domain.models import OutboxMessage
from spoc.core.services import Spoc, spoc_of


class Server:
    """Counts Message-IDs; can hold the n-th mail it receives until released."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content.decode("utf-8", "replace")
        mid = next(
            (
                line.split(":", 1)[1].strip()
                for line in content.splitlines()
                if line.startswith("Message-ID:")
            ),
            "?",
        )
        with self.lock:
            self.ids[mid] += 1
            hold = self.hold_at is not None and self.ids.total() == self.hold_at
        if hold:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 OK"


def queue(spoc: Spoc, count: int) -> None:
    with spoc.db.transaction() as session:
        session.execute(delete(OutboxMessage))
    done = 0
    while done < count:
        with spoc.db.transaction() as session:
            for n in range(done, min(done + 500, count)):
                spoc.notifier.mail(
                    session,
                    None,
                    f"person{n}@example.com",
                    "Your requests",
                    "magic_link",
                    name=f"Person {n}",
                    link=f"http://127.0.0.1:5000/my/{'x' * 43}",
                )
        done = min(done + 500, count)


def throughput(settings: dict[str, Any], server: Server, mails: int, workers: int) -> None:
    apps = [spoc_of(create_app(**settings)) for _ in range(workers)]
    queue(apps[0], mails)
    server.ids.clear()

    def work(spoc: Spoc) -> None:
        while spoc.outbox.deliver_due(100).claimed:
            pass

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(s,)) for s in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    twice = sum(1 for n in server.ids.values() if n > 1)
    print(
        f"throughput: {server.ids.total()} mails by {workers} worker(s) in {took:.1f} s = "
        f"{server.ids.total() / took:,.0f} mails/s, {len(server.ids)} distinct, {twice} twice"
    )
    for spoc in apps:
        spoc.db.dispose()


def crash(
    settings: dict[str, Any], env: dict[str, str], server: Server, mails: int, kill_at: int
) -> None:
    spoc = spoc_of(create_app(**settings))
    queue(spoc, mails)
    server.ids.clear()
    server.hold_at, server.holding, server.release = kill_at, threading.Event(), threading.Event()
    cli = [str(Path(sys.executable).parent / "spoc"), "outbox", "deliver", "--limit", "100"]
    dying = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    if not server.holding.wait(60):
        raise SystemExit("the first worker never reached the mail to hold")
    dying.send_signal(signal.SIGKILL)
    dying.wait(10)
    server.release.set()
    server.hold_at = None
    started = time.perf_counter()
    second = subprocess.run(  # noqa: S603 - our own CLI
        [*cli[:-1], "10000"], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    took = time.perf_counter() - started
    with spoc.db.reader() as session:
        held = session.scalar(select(func.count()).where(OutboxMessage.status == "sending"))
    print(
        f"crash: killed at mail {kill_at} of {mails}; the next worker sent "
        f"{len(server.ids)} distinct in {took:.1f} s ({second.stdout.strip()}); "
        f"{held} still held by the dead worker's lease"
    )
    # After the lease: a clock past it, in this process, sends what the dead worker held.
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=30))
    later = spoc_of(create_app(clock=clock, **settings))
    while later.outbox.deliver_due(100).claimed:
        pass
    twice = sorted(mid for mid, n in server.ids.items() if n > 1)
    print(
        f"crash: after the lease, {len(server.ids)} of {mails} delivered, {len(twice)} twice "
        f"(same Message-ID), {server.ids.total() - len(server.ids)} duplicate mails"
    )
    spoc.db.dispose()
    later.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--crash-mails", type=int, default=300)
    parser.add_argument("--kill-at", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    server = Server()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    settings: dict[str, Any] = {
        "env": "test",
        "database_url": url,
        "plugins": ["generic"],
        "instance_path": Path(folder) / "instance",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
    }
    env = {
        **os.environ,
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": url,
        "SPOC_PLUGINS": "generic",
        "SPOC_INSTANCE_PATH": str(Path(folder) / "instance"),
        "SPOC_SMTP_HOST": "127.0.0.1",
        "SPOC_SMTP_PORT": str(port),
    }
    app = create_app(**settings)
    spoc_of(app).upgrade_database()
    print(f"backend: {spoc_of(app).db.engine.dialect.name}")
    spoc_of(app).db.dispose()
    try:
        throughput(settings, server, args.mails, args.workers)
        crash(settings, env, server, args.crash_mails, args.kill_at)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
