"""``spoc mail``: taking mail in."""

from __future__ import annotations

import signal
import threading

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.mail.lmtp import mail_server


@main.group()
def mail() -> None:
    """Inbound mail: an LMTP/SMTP server to deliver to, IMAP mailboxes to poll."""


@mail.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8024, show_default=True, type=click.IntRange(1, 65535))
@click.option("--smtp", is_flag=True, help="Speak SMTP instead of LMTP.")
def serve(host: str, port: int, smtp: bool) -> None:
    """Take mail delivered by the organisation's mail server (LMTP; SMTP with --smtp).

    Postfix delivers a domain to it with a transport, e.g. in transport_maps:
    help.example.org  lmtp:inet:127.0.0.1:8024
    """
    spoc = ready_spoc()
    spoc.mail.check_types()
    server = mail_server(
        spoc.mail, host=host, port=port, smtp=smtp, max_bytes=spoc.settings.mail_max_bytes
    )
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Taking mail by {'SMTP' if smtp else 'LMTP'} on {host}:{port} (Ctrl+C stops)")
    try:
        stop.wait()
    finally:
        server.stop()
