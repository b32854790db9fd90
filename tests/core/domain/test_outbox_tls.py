"""Mail goes out over implicit TLS (port 465) and STARTTLS, the server's certificate checked:
real aiosmtpd servers with a certificate from a test CA (trustme)."""

from __future__ import annotations

import email.policy
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from spoc.core.services import spoc_of
from tests.conftest import AppFactory, build_org, free_port


class Received:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        self.tls.append(getattr(session, "ssl", None) is not None)
        return "250 OK"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def _server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def implicit(authority: trustme.CA) -> Iterator[tuple[Received, int]]:
    received, port = Received(), free_port()
    server = Controller(
        received, hostname="127.0.0.1", port=port, ssl_context=_server_context(authority)
    )
    server.start()
    yield received, port
    server.stop()


@pytest.fixture
def starttls(authority: trustme.CA) -> Iterator[tuple[Received, int]]:
    received, port = Received(), free_port()
    server = Controller(
        received,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(authority),
        require_starttls=True,
    )
    server.start()
    yield received, port
    server.stop()


def test_mail_goes_out_over_implicit_tls(
    make_app: AppFactory, implicit: tuple[Received, int], ca_file: Path
) -> None:
    received, port = implicit
    spoc = spoc_of(
        make_app(smtp_host="127.0.0.1", smtp_port=port, smtp_security="tls", smtp_ca_file=ca_file)
    )
    build_org(spoc).file()
    assert spoc.outbox.deliver_due().errors == []
    [mail] = received.messages
    assert mail["Subject"].endswith("New request for you")
    assert mail["Date"] and mail["Auto-Submitted"] == "auto-generated"


def test_mail_goes_out_over_starttls(
    make_app: AppFactory, starttls: tuple[Received, int], ca_file: Path
) -> None:
    received, port = starttls
    spoc = spoc_of(
        make_app(
            smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", smtp_ca_file=ca_file
        )
    )
    build_org(spoc).file()
    assert spoc.outbox.deliver_due().errors == []
    assert len(received.messages) == 1 and received.tls == [True]


def test_a_certificate_nobody_vouches_for_is_refused_and_the_mail_kept(
    make_app: AppFactory, implicit: tuple[Received, int]
) -> None:
    received, port = implicit
    spoc = spoc_of(make_app(smtp_host="127.0.0.1", smtp_port=port, smtp_security="tls"))
    build_org(spoc).file()
    report = spoc.outbox.deliver_due()
    assert report.sent == 0 and report.retried == 1
    assert "CERTIFICATE_VERIFY_FAILED" in report.errors[0]
    assert received.messages == []
