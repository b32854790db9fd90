"""Mail in: ``spoc mail fetch`` reads the IMAP mailboxes of ``SPOC_MAIL_MAILBOXES``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.kernel.mail import MailReceiver
from spoc.core.mail.imap import MailboxReader, fetch_pass
from spoc.core.platform.mailboxes import ImapMailbox
from spoc.core.platform.settings import Settings


@main.group()
def mail() -> None:
    """Mail coming in: fetch it from IMAP mailboxes."""


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


def mail_receiver(spoc: Any) -> MailReceiver:
    """What files the mail: the app's mail processing (``spoc.mail``)."""
    receiver: MailReceiver | None = getattr(spoc, "mail", None)
    if receiver is None:
        raise click.ClickException("this SPOC has no mail processing to hand mail to")
    return receiver


def worker_mail_tasks(spoc: Any) -> list[Callable[[], bool]]:
    """``spoc worker``'s share of mail: one fetch pass over every mailbox each round."""
    if not spoc.settings.mail_mailboxes:
        return []
    return [
        fetch_pass(
            spoc.settings.mail_mailboxes, mail_receiver(spoc), batch=spoc.settings.mail_fetch_batch
        )
    ]


@mail.command("fetch")
@click.option("--mailbox", "name", default=None, help="Only this mailbox (by its name).")
@click.option("--once", is_flag=True, help="One pass, then stop (for cron).")
def mail_fetch(name: str | None, once: bool) -> None:
    """Fetch mail from the IMAP mailboxes; stay connected and wait (IDLE) unless --once."""
    spoc = ready_spoc()
    mailboxes = chosen_mailboxes(spoc.settings, name)
    receiver = mail_receiver(spoc)
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
