"""`spoc mail fetch` against a real dovecot: each mail reaches the receiver once, leaves the
inbox only after the receiver returned, and survives a fetch process killed mid-batch."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from spoc.core.kernel.errors import StartupError
from spoc.core.mail.imap import MailboxReader, connect, disconnect, fetch_pass
from spoc.core.platform.mailboxes import ImapMailbox
from spoc.core.platform.settings import load_settings
from spoc.core.services import Spoc, run_forever
from spoc.testing import ImapAccount, dovecot_server, free_port
from tests.core.mail.receivers import RecordingReceiver, mail

ROOT = Path(__file__).resolve().parents[3]


def mailbox_of(account: ImapAccount, **overrides: Any) -> ImapMailbox:
    return ImapMailbox.model_validate(account.mailbox_settings(**overrides))


@pytest.fixture
def receiver(tmp_path: Path) -> RecordingReceiver:
    return RecordingReceiver(tmp_path / "filed.sqlite")


def subjects(account: ImapAccount, folder: str = "INBOX") -> list[str]:
    return [
        line.removeprefix(b"Subject: ").decode()
        for raw in account.messages(folder)
        for line in raw.split(b"\r\n")
        if line.startswith(b"Subject: ")
    ]


@pytest.mark.slow
def test_new_mail_reaches_the_receiver_once_and_moves_to_processed(
    imap_account: ImapAccount, receiver: RecordingReceiver
) -> None:
    imap_account.append(mail("Broken door", 1), mail("Lost badge", 2))
    reader = MailboxReader(mailbox_of(imap_account), receiver)

    report = reader.fetch_once()

    assert (report.received, report.duplicates, report.refused, report.kept) == (2, 0, 0, 0)
    assert receiver.calls == [
        ("Broken door", (imap_account.address,), "imap:support"),
        ("Lost badge", (imap_account.address,), "imap:support"),
    ]
    assert subjects(imap_account) == []
    assert subjects(imap_account, "Processed") == ["Broken door", "Lost badge"]
    assert reader.fetch_once().received == 0, "a second pass takes nothing"
    assert len(receiver.calls) == 2


@pytest.mark.slow
def test_a_receiver_error_leaves_the_mail_in_the_inbox_for_the_next_pass(
    imap_account: ImapAccount, tmp_path: Path
) -> None:
    imap_account.append(mail("Broken door"))
    mailbox = mailbox_of(imap_account)
    failing = RecordingReceiver(tmp_path / "filed.sqlite", fail=True)

    assert MailboxReader(mailbox, failing).fetch_once().kept == 1
    assert subjects(imap_account) == ["Broken door"]
    assert subjects(imap_account, "Processed") == []

    working = RecordingReceiver(tmp_path / "filed.sqlite")
    assert MailboxReader(mailbox, working).fetch_once().received == 1
    assert subjects(imap_account, "Processed") == ["Broken door"]


@pytest.mark.slow
def test_a_duplicate_is_moved_to_processed_too(
    imap_account: ImapAccount, receiver: RecordingReceiver
) -> None:
    imap_account.append(mail("Broken door"), mail("Broken door"))

    report = MailboxReader(mailbox_of(imap_account), receiver).fetch_once()

    assert (report.received, report.duplicates) == (1, 1)
    assert receiver.filed() == ["Broken door"]
    assert subjects(imap_account) == []
    assert subjects(imap_account, "Processed") == ["Broken door", "Broken door"]


@pytest.mark.slow
def test_a_refused_mail_goes_to_the_failed_folder(
    imap_account: ImapAccount, tmp_path: Path
) -> None:
    imap_account.append(mail("Spam spam"), mail("Broken door", 2))
    receiver = RecordingReceiver(tmp_path / "filed.sqlite", refuse=["Spam spam"])
    mailbox = mailbox_of(imap_account, failed_folder="Refused")

    report = MailboxReader(mailbox, receiver).fetch_once()

    assert (report.received, report.refused) == (1, 1)
    assert subjects(imap_account, "Refused") == ["Spam spam"]
    assert subjects(imap_account, "Processed") == ["Broken door"]


@pytest.mark.slow
def test_a_batch_takes_at_most_its_size_and_says_more_is_waiting(
    imap_account: ImapAccount, receiver: RecordingReceiver
) -> None:
    imap_account.append(*(mail("Broken door", n) for n in range(3)))
    reader = MailboxReader(mailbox_of(imap_account), receiver, batch=2)

    first = reader.fetch_once()
    assert (first.received, first.more) == (2, True)
    second = reader.fetch_once()
    assert (second.received, second.more) == (1, False)


@pytest.mark.slow
def test_while_the_receiver_fails_the_worker_does_not_hurry_on(
    imap_account: ImapAccount, tmp_path: Path
) -> None:
    imap_account.append(*(mail("Broken door", n) for n in range(3)))
    failing = RecordingReceiver(tmp_path / "filed.sqlite", fail=True)
    mailbox = mailbox_of(imap_account)

    assert fetch_pass([mailbox], failing, batch=2)() is False, "more waits, but nothing works"
    working = RecordingReceiver(tmp_path / "filed.sqlite")
    assert fetch_pass([mailbox], working, batch=2)() is True


@pytest.mark.slow
def test_idle_wakes_when_new_mail_is_appended(
    imap_account: ImapAccount, receiver: RecordingReceiver
) -> None:
    reader = MailboxReader(mailbox_of(imap_account), receiver)
    client = connect(reader.mailbox)
    try:
        reader.open(client)
        assert reader.take(client).received == 0
        appending = threading.Thread(target=imap_account.append, args=(mail("Broken door"),))
        appending.start()
        try:
            assert reader.wait_for_mail(client, timeout=30)
        finally:
            appending.join()
        assert reader.take(client).received == 1
        assert not reader.wait_for_mail(client, timeout=0.2), "nothing new: the wait times out"
    finally:
        disconnect(client)
    assert receiver.filed() == ["Broken door"]


@pytest.mark.slow
def test_a_long_running_fetch_stops_when_told(
    imap_account: ImapAccount, receiver: RecordingReceiver
) -> None:
    class StopAfterOne(RecordingReceiver):
        def receive(self, raw: bytes, **kwargs: Any) -> Any:
            receipt = super().receive(raw, **kwargs)
            stop.set()
            return receipt

    stop = threading.Event()
    imap_account.append(mail("Broken door"))
    reader = MailboxReader(mailbox_of(imap_account), StopAfterOne(receiver.path))
    reader.run(stop)  # returns: the IDLE after the pass sees the stop
    assert receiver.filed() == ["Broken door"]
    assert subjects(imap_account, "Processed") == ["Broken door"]


@pytest.mark.slow
def test_without_move_the_mail_is_copied_then_expunged(tmp_path: Path) -> None:
    receiver = RecordingReceiver(tmp_path / "filed.sqlite")
    with dovecot_server(without_capabilities=("MOVE",)) as server:
        account = server.new_account()
        account.append(mail("Broken door"), mail("Lost badge", 2))
        with account.client() as client:
            assert not client.has_capability("MOVE")

        assert MailboxReader(mailbox_of(account), receiver).fetch_once().received == 2

        assert subjects(account) == []
        assert subjects(account, "Processed") == ["Broken door", "Lost badge"]


@pytest.mark.slow
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_verify_the_server_certificate(
    imap_account: ImapAccount, receiver: RecordingReceiver, security: str
) -> None:
    imap_account.append(mail("Broken door"))
    mailbox = mailbox_of(imap_account, security=security)

    assert MailboxReader(mailbox, receiver).fetch_once().received == 1

    untrusted = mailbox_of(imap_account, security=security, ca_file=None)
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        connect(untrusted)


@pytest.mark.slow
def test_a_failing_mailbox_is_logged_without_its_password_and_the_others_go_on(
    receiver: RecordingReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # A server of its own: dovecot makes the next sign-in from an address wait after a failure.
    with dovecot_server() as server:
        account = server.new_account()
        unreachable = mailbox_of(account, name="away", port=free_port())
        wrong = mailbox_of(account, name="wrong", password="hunter2-wrong")
        account.append(mail("Broken door"))
        caplog.set_level(logging.DEBUG)

        assert fetch_pass([unreachable, mailbox_of(account), wrong], receiver)() is False

    assert receiver.filed() == ["Broken door"]
    assert "mailbox away: fetch failed" in caplog.text
    assert "mailbox wrong: fetch failed" in caplog.text
    assert "AUTHENTICATIONFAILED" in caplog.text
    assert "hunter2-wrong" not in caplog.text


@pytest.mark.slow
def test_the_worker_fetches_each_pass(
    imap_account: ImapAccount, receiver: RecordingReceiver, spoc: Spoc
) -> None:
    imap_account.append(mail("Broken door"))

    run_forever(
        spoc,
        timedelta(seconds=1),
        passes=1,
        also=[fetch_pass([mailbox_of(imap_account)], receiver)],
    )

    assert receiver.filed() == ["Broken door"]


@pytest.mark.slow
def test_a_fetch_killed_mid_batch_loses_nothing_and_files_nothing_twice(
    imap_account: ImapAccount, receiver: RecordingReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_account.append(*(mail(f"Mail {n}", n) for n in range(1, 5)))
    # The password reaches the other process by environment: a dump of settings masks it.
    monkeypatch.setenv("SPOC_TEST_IMAP_PASSWORD", imap_account.password)
    mailbox = mailbox_of(imap_account, password=None, password_env="SPOC_TEST_IMAP_PASSWORD")
    command = [sys.executable, "-m", "tests.core.mail.stalling_fetch"]
    arguments = [mailbox.model_dump_json(), str(receiver.path), "2"]
    with subprocess.Popen(
        [*command, *arguments], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as fetch:
        try:
            assert fetch.stdout is not None
            said = [fetch.stdout.readline() for _ in range(2)]
            assert said == ["filed Mail 1\n", "filed Mail 2\n"]
        finally:
            fetch.kill()  # Mail 2 is filed (committed) but was never moved
    assert subjects(imap_account, "Processed") == ["Mail 1"]

    report = MailboxReader(mailbox, receiver).fetch_once()

    assert (report.received, report.duplicates) == (2, 1)
    assert receiver.filed() == ["Mail 1", "Mail 2", "Mail 3", "Mail 4"]
    assert subjects(imap_account) == []
    assert sorted(subjects(imap_account, "Processed")) == ["Mail 1", "Mail 2", "Mail 3", "Mail 4"]


def _settings_error(**entry: Any) -> str:
    base = {
        "name": "support",
        "host": "imap.example.org",
        "username": "support",
        "password": "pw",
        "address": "support@example.org",
    }
    with pytest.raises(StartupError) as caught:
        load_settings(env="test", mail_mailboxes=[{**base, **entry}])
    return str(caught.value)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"security": "ssl"}, "SPOC_MAIL_MAILBOXES.0.SECURITY: Input should be 'tls', 'starttls'"),
        ({"security": "plain"}, "security: plain sends the password in clear"),
        ({"port": 0}, "SPOC_MAIL_MAILBOXES.0.PORT"),
        ({"address": "not an address"}, "SPOC_MAIL_MAILBOXES.0.ADDRESS"),
        ({"name": "Support Desk"}, "SPOC_MAIL_MAILBOXES.0.NAME"),
        ({"password_env": "SPOC_TEST_NO_SUCH_VARIABLE"}, "set exactly one of password and"),
        ({"colour": "blue"}, "SPOC_MAIL_MAILBOXES.0.COLOUR: Extra inputs are not permitted"),
        ({"processed_folder": "INBOX"}, "folder, processed_folder and failed_folder must differ"),
    ],
)
def test_a_bad_mailbox_setting_is_refused_naming_the_field(
    entry: dict[str, Any], expected: str
) -> None:
    assert expected in _settings_error(**entry)


def test_password_env_must_name_a_set_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _settings_error(password=None, password_env="SPOC_TEST_IMAP_PASSWORD")
    assert "password_env: environment variable SPOC_TEST_IMAP_PASSWORD is not set" in message
    monkeypatch.setenv("SPOC_TEST_IMAP_PASSWORD", "from-the-environment")
    settings = load_settings(
        env="test",
        mail_mailboxes=json.loads(
            '[{"name": "support", "host": "imap.example.org", "username": "support",'
            ' "password_env": "SPOC_TEST_IMAP_PASSWORD", "address": "support@example.org"}]'
        ),
    )
    [mailbox] = settings.mail_mailboxes
    assert mailbox.secret() == "from-the-environment"
    assert (mailbox.server_port, mailbox.folder, mailbox.processed_folder) == (
        993,
        "INBOX",
        "Processed",
    )
    assert "from-the-environment" not in repr(settings)


def test_two_mailboxes_may_not_share_a_name() -> None:
    entry = {
        "name": "support",
        "host": "imap.example.org",
        "username": "support",
        "password": "pw",
        "address": "support@example.org",
    }
    with pytest.raises(StartupError, match="two mailboxes are named 'support'"):
        load_settings(env="test", mail_mailboxes=[entry, entry])
