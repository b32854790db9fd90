"""`spoc mail fetch` refuses, in one line, what it cannot do."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from sqlalchemy import select

from spoc.core.domain.models import InboundMail, Request
from spoc.core.services import spoc_of
from spoc.testing import AppFactory
from spoc.testing.imap import ImapAccount
from tests.conftest import build_org
from tests.core.domain.mail.mails import compose

MAILBOX = {
    "name": "support",
    "host": "127.0.0.1",
    "security": "plain",
    "username": "support",
    "password": "pw",
    "address": "support@example.org",
}


def test_fetch_without_mailboxes_says_what_to_set(spoc_cli: Callable[..., Result]) -> None:
    result = spoc_cli("mail", "fetch", "--once")
    assert result.exit_code == 1
    assert "no mailboxes to fetch: set SPOC_MAIL_MAILBOXES" in result.output


def test_fetch_of_an_unknown_mailbox_names_the_configured_ones(
    spoc_cli: Callable[..., Result],
) -> None:
    env = {"SPOC_MAIL_MAILBOXES": json.dumps([MAILBOX])}
    result = spoc_cli("mail", "fetch", "--mailbox", "sales", "--once", env=env)
    assert result.exit_code == 1
    assert "no mailbox named 'sales' (configured: support)" in result.output


def test_a_bad_mailbox_setting_stops_the_command_naming_the_field(
    spoc_cli: Callable[..., Result],
) -> None:
    env = {"SPOC_MAIL_MAILBOXES": json.dumps([{**MAILBOX, "host": "imap.example.org"}])}
    result = spoc_cli("mail", "fetch", "--once", env=env)
    assert result.exit_code == 1
    assert "SPOC_MAIL_MAILBOXES.0: Value error, security: plain" not in result.output
    assert "SPOC_MAIL_MAILBOXES.0: security: plain sends the password in clear" in result.output


@pytest.mark.slow
def test_fetch_once_files_each_mail_from_a_real_dovecot_and_moves_it(
    make_app: AppFactory, spoc_cli: Callable[..., Result], imap_account: ImapAccount
) -> None:
    """End to end: mail in an IMAP mailbox becomes requests through `spoc mail fetch --once`,
    each once, and the mailbox is left with them in the processed folder."""
    spoc = spoc_of(make_app(mail_from="help@example.org"))
    build_org(spoc)
    imap_account.append(
        compose(message_id="<imap-1@client.example.com>"),
        compose(subject="Second question", message_id="<imap-2@client.example.com>"),
    )
    env = {"SPOC_MAIL_MAILBOXES": json.dumps([imap_account.mailbox_settings()])}
    for _ in range(2):  # the second pass finds nothing left to take
        result = spoc_cli("mail", "fetch", "--once", env=env)
        assert result.exit_code == 0, result.output
    with spoc.db.reader() as session:
        rows = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
        assert [(r.outcome, r.source) for r in rows] == [("filed", "imap:support")] * 2
        assert session.query(Request).count() == 2
    assert imap_account.messages("INBOX") == []
    assert len(imap_account.messages("Processed")) == 2


def test_worker_refuses_a_bad_lmtp_address_naming_the_option(
    spoc_cli: Callable[..., Result],
) -> None:
    result = spoc_cli("worker", "--passes", "1", "--lmtp", "127.0.0.1:http")
    assert result.exit_code == 2
    assert "--lmtp" in result.output and "HOST:PORT" in result.output
