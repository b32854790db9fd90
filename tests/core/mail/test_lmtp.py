"""`spoc mail serve`: a real SMTP client delivers to the LMTP and SMTP servers."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from spoc.core.domain.models import InboundMail
from spoc.core.mail.lmtp import mail_server
from spoc.core.services import Spoc, spoc_of
from spoc.testing.mail import free_port
from tests.conftest import AppFactory, build_org
from tests.core.domain.mail.mails import compose


@pytest.fixture
def served(make_app: AppFactory) -> Iterator[tuple[Spoc, int]]:
    spoc = spoc_of(make_app(mail_from="help@example.org", mail_max_bytes=64 * 1024))
    build_org(spoc)
    port = free_port()
    server = mail_server(spoc.mail, port=port, max_bytes=spoc.settings.mail_max_bytes)
    server.start()
    try:
        yield spoc, port
    finally:
        server.stop()


def stored(spoc: Spoc) -> list[InboundMail]:
    with spoc.db.reader() as session:
        return list(session.query(InboundMail).order_by(InboundMail.id))


def test_lmtp_answers_each_recipient_once_the_mail_is_stored(served: tuple[Spoc, int]) -> None:
    spoc, port = served
    with smtplib.LMTP("127.0.0.1", port) as client:
        # smtplib reads one answer after DATA; LMTP gives one per recipient (RFC 2033).
        client.ehlo_or_helo_if_needed()
        assert client.mail("maria@example.com")[0] == 250
        assert client.rcpt("help@example.org")[0] == 250
        assert client.rcpt("info@example.org")[0] == 250
        first = client.data(compose(message_id="<lmtp-1@client.example.com>"))
        second = client.getreply()
    assert first == second == (250, b"2.0.0 OK")
    [row] = stored(spoc)
    assert row.outcome == "filed" and row.source == f"lmtp:{port}"
    assert row.envelope_to == "help@example.org"


def test_lmtp_refuses_an_oversized_mail_with_the_reason(served: tuple[Spoc, int]) -> None:
    spoc, port = served
    big = compose(body=("x" * 70 + "\n") * 1000)
    with smtplib.LMTP("127.0.0.1", port) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("maria@example.com", ["help@example.org"], big)
    assert refused.value.smtp_code == 552
    assert b"the largest we accept is 0.1 MB" in refused.value.smtp_error
    # The delivering server's bounce carries that reason: SPOC sends none of its own.
    assert [r.outcome for r in stored(spoc)] == ["refused"]


def test_a_redelivered_mail_is_answered_ok_and_acted_on_once(served: tuple[Spoc, int]) -> None:
    spoc, port = served
    raw = compose(message_id="<twice@client.example.com>")
    for _ in range(2):
        with smtplib.LMTP("127.0.0.1", port) as client:
            assert client.sendmail("maria@example.com", ["help@example.org"], raw) == {}
    assert len(stored(spoc)) == 1


def test_smtp_on_request(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app(mail_from="help@example.org"))
    build_org(spoc)
    port = free_port()
    server = mail_server(spoc.mail, port=port, smtp=True, max_bytes=spoc.settings.mail_max_bytes)
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("maria@example.com", ["help@example.org"], compose())
    finally:
        server.stop()
    assert [r.source for r in stored(spoc)] == [f"smtp:{port}"]
