"""No working secret link sits in clear in the database: mail bodies are sealed at rest."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import inspect, text, update

from spoc.core.domain.models import OutboxMessage
from spoc.core.services import spoc_of
from spoc.core.storage.db import UNREADABLE
from tests.conftest import AppFactory, Inbox, csrf_token


def every_stored_value(spoc_db_engine: object) -> str:
    """Every column of every row of every table, as the database holds it (no ORM types)."""
    engine = spoc_db_engine
    chunks: list[str] = []
    with engine.connect() as connection:  # type: ignore[attr-defined]
        for table in inspect(connection).get_table_names():
            query = text(f'SELECT * FROM "{table}"')  # noqa: S608 - reflected table names
            for row in connection.execute(query):
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def test_no_table_holds_a_working_tracking_or_magic_link(
    make_app: AppFactory, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        plugins=["generic", "healthcare"],
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        secret_key="a-long-random-production-like-secret-key",
    )
    spoc = spoc_of(app)
    client = app.test_client()
    filed = client.post(
        "/new/generic.question",
        data={
            "csrf_token": csrf_token(client, "/new/generic.question"),
            "summary": "Where is my invoice?",
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
        },
    )
    assert filed.status_code == 303, filed.get_data(as_text=True)
    tracking = re.search(r"/track/([^?]+)", filed.headers["Location"]).group(1)  # type: ignore[union-attr]
    asked = client.post(
        "/my-requests",
        data={"csrf_token": csrf_token(client), "email": "maria@example.com"},
    )
    assert asked.status_code == 200
    stored = every_stored_value(spoc.db.engine)
    # Both links are queued (the mails are in the outbox), yet neither secret is stored.
    assert tracking not in stored
    with caplog.at_level(logging.INFO):
        assert spoc.outbox.deliver_due().sent >= 2
    magic = re.search(r"/my/(\S+)", inbox[0].link()).group(1)  # type: ignore[union-attr]
    assert client.get(f"/my/{magic}").status_code == 303  # the delivered link works
    assert client.get(f"/track/{tracking}").status_code == 200
    stored = every_stored_value(spoc.db.engine)
    assert tracking not in stored and magic not in stored
    assert "healthcare_access_log" in inspect(spoc.db.engine).get_table_names()
    assert tracking not in caplog.text and magic not in caplog.text


def test_dev_mail_log_names_recipient_and_subject_only(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(env="dev")
    spoc = spoc_of(app)
    client = app.test_client()
    client.post(
        "/new/generic.question",
        data={
            "csrf_token": csrf_token(client, "/new/generic.question"),
            "summary": "Where is my invoice?",
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
        },
    )
    with caplog.at_level(logging.INFO, logger="spoc.core.domain.outbox"):
        assert spoc.outbox.deliver_due().sent >= 1
    assert "mail to maria@example.com: [REQ-" in caplog.text
    assert "/track/" not in caplog.text


def test_bodies_stored_in_clear_before_the_upgrade_are_sealed_by_it(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app())
    with spoc.db.transaction() as session:
        session.add(
            OutboxMessage(
                channel="email",
                recipient="maria@example.com",
                subject="Your requests",
                body_text="placeholder",
                idempotency_key="legacy-1",
                next_attempt_at=spoc.clock.now(),
                created_at=spoc.clock.now(),
            )
        )
    with spoc.db.engine.begin() as connection:  # as an older version wrote it: in clear
        connection.execute(
            text("UPDATE outbox_messages SET body_text = 'http://x/my/legacy-secret-link'")
        )
    spoc.upgrade_database()
    assert "legacy-secret-link" not in every_stored_value(spoc.db.engine)
    with spoc.db.reader() as session:
        row = session.query(OutboxMessage).one()
        assert row.body_text == "http://x/my/legacy-secret-link"
    assert spoc.outbox.seal_stored_bodies() == 0  # idempotent


def test_a_body_sealed_with_another_key_is_dead_lettered_not_sent(make_app: AppFactory) -> None:
    first = spoc_of(make_app(secret_key="the-first-secret-key-of-this-organisation"))
    with first.db.transaction() as session:
        first.notifier.mail(session, None, "maria@example.com", "Hello", "magic_link", link="x")
    rotated = spoc_of(make_app(secret_key="a-different-secret-key-after-rotation"))
    report = rotated.outbox.deliver_due()
    assert (report.sent, report.dead) == (0, 1)
    with rotated.db.reader() as session:
        row = session.query(OutboxMessage).one()
        assert row.status == "dead" and row.body_text == UNREADABLE
        assert "another SPOC_SECRET_KEY" in (row.last_error or "")
    with rotated.db.transaction() as session:  # an altered sealed body does not open either
        session.execute(update(OutboxMessage).values(status="pending"))


def test_the_server_access_log_shows_no_secret_link() -> None:
    from types import SimpleNamespace

    from gunicorn.config import Config

    from spoc.core.web.serverlog import RedactingLogger

    token = "Zx" * 21 + "Q"  # 43 URL-safe characters, like every link secret
    logger = RedactingLogger(Config())
    request = SimpleNamespace(
        method="GET",
        path=f"/track/{token}",
        query=f"next=/my/{token}",
        version=(1, 1),
        headers=[("REFERER", f"http://127.0.0.1:5000/track/{token}")],
        uri=f"/track/{token}",
    )
    response = SimpleNamespace(status="200 OK", response_length=10, headers=[], sent=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/track/{token}?next=/my/{token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"http://x/track/{token}",
        "REMOTE_ADDR": "127.0.0.1",
        "PATH_INFO": f"/track/{token}",
        "QUERY_STRING": f"next=/my/{token}",
    }
    from datetime import timedelta

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = " ".join(str(atoms[k]) for k in ("r", "U", "q", "f"))
    assert token not in line and "/track/[secret]" in line
