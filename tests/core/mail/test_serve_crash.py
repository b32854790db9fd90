"""A `spoc mail serve` process killed in the middle of a delivery loses no mail and files none
twice: the delivering server redelivers what it has no answer for, and the retry is known."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from spoc.core.domain.models import InboundMail, OutboxMessage, Request
from tests.conftest import free_port

pytestmark = pytest.mark.slow
MAILS = 12


def _mail(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"customer{n}@example.com"
    mail["To"] = "help@example.org"
    mail["Subject"] = f"Question {n} about my order"
    mail["Message-ID"] = f"<crash-{n}@client.example.com>"
    mail.set_content(f"Where is order {n}?")
    return mail.as_bytes(policy=policy.SMTP)


def _serve(environment: dict[str, str], port: int) -> subprocess.Popen[str]:
    spoc = str(Path(sys.executable).with_name("spoc"))
    server = subprocess.Popen(
        [spoc, "mail", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:  # until it says it listens: no sleeping
        if "Taking mail" in line:
            return server
    raise AssertionError(f"spoc mail serve did not start: exit {server.wait()}")


def _instance(folder: Path) -> tuple[str, dict[str, str]]:
    """A migrated SQLite database in ``folder`` and the environment of `spoc` commands on it."""
    database = f"sqlite:///{folder / 'mail.sqlite'}"
    environment = {
        **os.environ,
        "SPOC_ENV": "dev",
        "SPOC_DATABASE_URL": database,
        "SPOC_PLUGINS": "generic",
        "SPOC_INSTANCE_PATH": str(folder),
        "SPOC_MAIL_FROM": "help@example.org",
    }
    spoc = str(Path(sys.executable).with_name("spoc"))
    subprocess.run([spoc, "db", "upgrade"], env=environment, check=True, capture_output=True)
    return database, environment


def _close(server: subprocess.Popen[str]) -> None:
    server.wait(timeout=30)
    if server.stdout is not None:
        server.stdout.close()


def test_a_killed_mail_server_loses_nothing_and_files_nothing_twice(tmp_path: Path) -> None:
    database, environment = _instance(tmp_path)
    port = free_port()
    server = _serve(environment, port)
    answered: set[int] = set()
    try:
        with smtplib.LMTP("127.0.0.1", port) as client:
            for n in range(1, MAILS // 2 + 1):
                client.sendmail(f"customer{n}@example.com", ["help@example.org"], _mail(n))
                answered.add(n)
            # The next mail is in flight when the process dies: sent, never answered.
            n = MAILS // 2 + 1
            client.mail(f"customer{n}@example.com")
            client.rcpt("help@example.org")
            client.send(b"DATA\r\n")
            assert client.getreply()[0] == 354
            client.send(_mail(n) + b"\r\n.\r\n")
            server.send_signal(signal.SIGKILL)
            server.wait()
    except smtplib.SMTPServerDisconnected:
        pass
    finally:
        if server.poll() is None:
            server.kill()
        _close(server)
    # The delivering server retries every mail it has no answer for, in flight or not sent.
    server = _serve(environment, port)
    try:
        for n in range(1, MAILS + 1):
            if n in answered:
                continue
            with smtplib.LMTP("127.0.0.1", port) as client:
                assert (
                    client.sendmail(f"customer{n}@example.com", ["help@example.org"], _mail(n))
                    == {}
                )
        # A retry of one that had been answered, as after a lost connection: known, not refiled.
        with smtplib.LMTP("127.0.0.1", port) as client:
            assert client.sendmail("customer1@example.com", ["help@example.org"], _mail(1)) == {}
    finally:
        server.send_signal(signal.SIGTERM)
        _close(server)
    engine = create_engine(database)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Request)) == MAILS
        assert connection.scalar(select(func.count()).select_from(InboundMail)) == MAILS
        acks = connection.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.recipient.like("customer%"))
        ).all()
    engine.dispose()
    assert sorted(acks) == sorted(f"customer{n}@example.com" for n in range(1, MAILS + 1))


def test_the_worker_takes_mail_by_lmtp_in_its_own_process(tmp_path: Path) -> None:
    database, environment = _instance(tmp_path)
    spoc = str(Path(sys.executable).with_name("spoc"))
    port = free_port()
    worker = subprocess.Popen(
        [spoc, "worker", "--interval", "3600", "--lmtp", f"127.0.0.1:{port}"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        for line in worker.stdout:  # until it says it takes mail: no sleeping
            if "Taking mail by LMTP" in line:
                break
        with smtplib.LMTP("127.0.0.1", port) as client:
            assert client.sendmail("customer1@example.com", ["help@example.org"], _mail(1)) == {}
    finally:
        worker.send_signal(signal.SIGTERM)
        _close(worker)
    engine = create_engine(database)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Request)) == 1
    engine.dispose()
