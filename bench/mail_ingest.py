"""Inbound mail per second through the real LMTP server, plain and with a 1 MB attachment.

    .venv/bin/python bench/mail_ingest.py --mails 300
    .venv/bin/python bench/mail_ingest.py --mails 300 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

A real client (smtplib's LMTP) delivers each mail over one connection to ``spoc mail serve``'s
server in this process; each is a new request by mail (parse, deduplicate, file, route, the
acknowledgement queued) committed before the server answers 250. Prints mails per second
and the latency of one delivery (p50/p99), and, as a baseline of the same run, the rate of
``MailService.receive`` called directly (no network, no server).
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import statistics
import tempfile
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import create_engine, text

from spoc import create_app
from spoc.core.mail.lmtp import mail_server
from spoc.core.services import spoc_of


def compose(n: int, attachment: bytes | None) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Customer {n} <customer{n}@example.com>"
    mail["To"] = "help@example.org"
    mail["Subject"] = f"Question number {n} about my order"
    mail["Message-ID"] = f"<bench-{n}-{time.time_ns()}@client.example.com>"
    mail.set_content(f"Hello,\n\nwhere is order {n}? It has not arrived.\n\nThanks,\nCustomer\n")
    if attachment is not None:
        mail.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    return mail.as_bytes(policy=policy.SMTP)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(database_url: str | None, mails: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="spoc-bench-mail-"))
    url = database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    if database_url and database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(
        env="test",
        database_url=url,
        plugins=["generic"],
        instance_path=folder,
        mail_from="help@example.org",
        mail_sender_limit=1_000_000,
        mail_max_bytes=4 * 1024 * 1024,
    )
    spoc = spoc_of(app)
    spoc.upgrade_database()
    spoc.directory.add_team(key="desk", name="Service desk")
    port = free_port()
    server = mail_server(spoc.mail, port=port, max_bytes=spoc.settings.mail_max_bytes)
    server.start()
    # A PDF by its content (attachments are typed from their bytes), 1 MB.
    one_mb = b"%PDF-1.4\n" + bytes(range(256)) * 4096
    print(f"backend: {spoc.db.engine.dialect.name}, {mails} mails per run")
    counter = 0
    try:
        for label, attachment in (("plain", None), ("1 MB attachment", one_mb)):
            batch = []
            for _ in range(mails):
                counter += 1
                batch.append(compose(counter, attachment))
            latencies = []
            with smtplib.LMTP("127.0.0.1", port) as client:
                started = time.perf_counter()
                for raw in batch:
                    t = time.perf_counter()
                    client.sendmail("customer@example.com", ["help@example.org"], raw)
                    latencies.append((time.perf_counter() - t) * 1000)
                elapsed = time.perf_counter() - started
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(
                f"LMTP, {label:<16} {mails / elapsed:7.1f} mails/s   "
                f"p50 {statistics.median(latencies):6.1f} ms   p99 {p99:6.1f} ms"
            )
        batch = []
        for _ in range(mails):
            counter += 1
            batch.append(compose(counter, None))
        started = time.perf_counter()
        for raw in batch:
            spoc.mail.receive(raw, envelope_to=["help@example.org"], source="bench")
        direct = mails / (time.perf_counter() - started)
        print(f"direct receive(), plain  {direct:7.1f} mails/s   (baseline: no server, no network)")
    finally:
        server.stop()
        spoc.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    run(args.database_url, args.mails)


if __name__ == "__main__":
    main()
