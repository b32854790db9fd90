"""`spoc mail fetch` refuses, in one line, what it cannot do."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

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
