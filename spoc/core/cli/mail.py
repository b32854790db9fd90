"""``spoc mail``: taking mail in — ``serve`` (LMTP/SMTP, delivered by the mail server) and
``fetch`` (the IMAP mailboxes of ``SPOC_MAIL_MAILBOXES``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.mail.imap import MailboxReader, fetch_pass
from spoc.core.mail.lmtp import mail_server
from spoc.core.platform.mailboxes import ImapMailbox
from spoc.core.platform.settings import Settings
from spoc.core.services import Spoc


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


def chosen_mailboxes(settings: Settings, name: str | None) -> list[ImapMailbox]:
    """The configured mailboxes, or the one named; refuses (one line) none or an unknown name."""
    mailboxes = settings.mail_mailboxes
    if not mailboxes:
        raise click.ClickException("no mailboxes to fetch: set SPOC_MAIL_MAILBOXES (README)")
    if name is None:
        return list(mailboxes)
    chosen = [m for m in mailboxes if m.name == name]
    if not chosen:
        known = ", ".join(m.name for m in mailboxes)
        raise click.ClickException(f"no mailbox named {name!r} (configured: {known})")
    return chosen


def worker_mail_tasks(spoc: Spoc) -> list[Callable[[], bool]]:
    """``spoc worker``'s share of mail: one fetch pass over every mailbox each round."""
    if not spoc.settings.mail_mailboxes:
        return []
    return [
        fetch_pass(spoc.settings.mail_mailboxes, spoc.mail, batch=spoc.settings.mail_fetch_batch)
    ]


@mail.command("fetch")
@click.option("--mailbox", "name", default=None, help="Only this mailbox (by its name).")
@click.option("--once", is_flag=True, help="One pass, then stop (for cron).")
def mail_fetch(name: str | None, once: bool) -> None:
    """Fetch mail from the IMAP mailboxes; stay connected and wait (IDLE) unless --once."""
    spoc = ready_spoc()
    mailboxes = chosen_mailboxes(spoc.settings, name)
    spoc.mail.check_types()
    receiver = spoc.mail
    readers = [MailboxReader(m, receiver, batch=spoc.settings.mail_fetch_batch) for m in mailboxes]
    if once:
        failed = []
        for reader in readers:
            try:
                click.echo(str(reader.fetch_once()))
            except Exception as exc:
                failed.append(reader.mailbox.name)
                click.echo(f"mailbox {reader.mailbox.name}: {type(exc).__name__}: {exc}", err=True)
        if failed:
            raise click.ClickException(f"fetch failed for {', '.join(failed)}")
        return
    stop = threading.Event()
    threads = [
        threading.Thread(target=r.run, args=(stop,), name=f"imap-{r.mailbox.name}", daemon=True)
        for r in readers
    ]
    click.echo(f"Fetching {', '.join(m.name for m in mailboxes)} (Ctrl+C stops)")
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
