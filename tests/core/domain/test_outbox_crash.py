"""A real ``spoc outbox deliver`` process killed mid-send: nothing lost, one duplicate at most."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from spoc.core.domain.models import OutboxMessage
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, free_port

MAILS, HOLD_AT = 30, 5


class HoldingInbox:
    """An SMTP server that takes the n-th mail in, then holds its answer until released."""

    def __init__(self, hold_at: int) -> None:
        self.ids: Counter[str] = Counter()
        self.hold_at = hold_at
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        text = envelope.content.decode("utf-8", "replace")
        mid = next(line for line in text.splitlines() if line.startswith("Message-ID:"))
        self.ids[mid] += 1
        if self.ids.total() == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "250 OK"


@pytest.mark.slow
def test_a_killed_worker_holds_only_the_mail_in_flight(
    make_app: AppFactory, tmp_path: Path
) -> None:
    inbox = HoldingInbox(HOLD_AT)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        spoc = spoc_of(make_app(smtp_host="127.0.0.1", smtp_port=port))
        with spoc.db.transaction() as session:
            for n in range(MAILS):
                spoc.notifier.mail(session, None, f"p{n}@example.com", "Hi", "magic_link", link="x")
        env = {
            **os.environ,
            "SPOC_ENV": "test",
            "SPOC_DATABASE_URL": spoc.db.url,
            "SPOC_PLUGINS": "generic",
            "SPOC_INSTANCE_PATH": str(tmp_path / "instance"),
            "SPOC_SMTP_HOST": "127.0.0.1",
            "SPOC_SMTP_PORT": str(port),
        }
        cli = [str(Path(sys.executable).parent / "spoc"), "outbox", "deliver", "--limit", "100"]
        dying = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL)
        assert inbox.holding.wait(60), "the worker never reached the mail to hold"
        dying.send_signal(signal.SIGKILL)  # mail 5 is in; its 250 never reached the worker
        assert dying.wait(10) == -signal.SIGKILL
        inbox.release.set()
        # The next worker, at once (its own clock is the real one, long before any lease ends),
        # sends every other mail in one pass: the dead worker held only the one in flight.
        second = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        assert len(inbox.ids) == MAILS and inbox.ids.total() == MAILS
        with spoc.db.reader() as session:
            held = list(
                session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent"))
            )
        assert [m.status for m in held] == ["sending"]
        # Once its lease is over (the test's clock moved past it), it goes out again with the
        # same Message-ID: the one duplicate, for the receiver to drop.
        spoc.clock.set(
            datetime.now(UTC) + timedelta(seconds=spoc.settings.outbox_lease_seconds + 60)
        )  # type: ignore[attr-defined]
        assert spoc.outbox.deliver_due().sent == 1
        assert len(inbox.ids) == MAILS
        assert sorted(inbox.ids.values()) == [1] * (MAILS - 1) + [2]
        assert held[0].headers["Message-ID"] in max(inbox.ids, key=lambda k: inbox.ids[k])
    finally:
        inbox.release.set()
        controller.stop()
