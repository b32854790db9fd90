"""Who is told what, delivered through the outbox to a real SMTP server and a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from spoc import FrozenClock, Status
from spoc.core.domain.models import OutboxMessage
from spoc.core.domain.outbox import enqueue
from spoc.core.services import Spoc, spoc_of
from tests.conftest import AppFactory, Inbox, Org, build_org, csrf_token, free_port, login
from tests.core.fake_plugins import pager
from tests.core.platform.test_plugins import with_fakes

SECRET = "webhook-test-secret"


class Receiver(BaseHTTPRequestHandler):
    """Checks the signature, remembers each idempotency key once, can be told to fail."""

    seen: dict[str, int]
    bodies: list[dict]
    failing: bool

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = dict(p.split("=", 1) for p in self.headers["X-Spoc-Signature"].split(","))
        expected = hmac.new(
            SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if self.server.failing or not hmac.compare_digest(expected, parts["v1"]):  # type: ignore[attr-defined]
            self.send_response(503 if self.server.failing else 401)  # type: ignore[attr-defined]
            self.end_headers()
            return
        key = self.headers["Idempotency-Key"]
        seen = self.server.seen  # type: ignore[attr-defined]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            self.server.bodies.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.seen, server.bodies, server.failing = {}, [], False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def notified(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Org:
    app = make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])
    return build_org(spoc_of(app))


def deliver(org: Org) -> None:
    report = org.spoc.outbox.deliver_due()
    assert report.errors == []


def test_new_request_tells_the_acting_spoc(notified: Org, inbox: tuple[Inbox, int]) -> None:
    rid = notified.file()
    deliver(notified)
    [mail] = inbox[0].to("dana@example.org")
    assert mail["Subject"] == f"[REQ-{rid:05d}] New request for you"
    assert "Where is my invoice?" in mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)) is not None
    assert inbox[0].to("maria@example.com") == []  # the portal sends the confirmation


def test_requester_gets_public_replies_threaded_and_never_internal_notes(
    notified: Org, inbox: tuple[Inbox, int]
) -> None:
    rid = notified.file()
    dana = notified.actor(notified.dana)
    notified.spoc.requests.post_message(rid, dana, "Customer is grumpy", internal=True)
    notified.spoc.requests.post_message(rid, dana, "Your invoice is attached.")
    notified.spoc.requests.transition(rid, Status.RESOLVED, dana)
    deliver(notified)
    mails = inbox[0].to("maria@example.com")
    assert [m["Subject"] for m in mails] == [
        f"[REQ-{rid:05d}] You have a reply",
        f"[REQ-{rid:05d}] Your request is now: Resolved — please confirm",
    ]
    for mail in mails:
        text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
        assert "grumpy" not in text
        # Message-IDs are in the mail domain: SPOC_MAIL_FROM's, by default (spoc@localhost).
        assert mail["In-Reply-To"] == mail["References"] == f"<req-{rid}@localhost>"
        assert mail["Reply-To"] == notified.spoc.addressing.reply_address(rid)
        assert mail["Date"] is not None
        assert mail["Message-ID"].startswith("<ntf-")
    assert "Your invoice is attached." in mails[0].get_body(("plain",)).get_content()


def test_specialist_notes_and_escalations_reach_the_right_people(
    notified: Org, inbox: tuple[Inbox, int]
) -> None:
    rid = notified.file()
    notified.spoc.escalations.escalate(
        rid, notified.actor(notified.dana), team_key="specialists", reason="ledger"
    )
    notified.spoc.requests.post_message(
        rid, notified.actor(notified.kim), "Fixed the ledger", internal=True
    )
    deliver(notified)
    assert [m["Subject"] for m in inbox[0].to("kim@example.org")] == [
        f"[REQ-{rid:05d}] A request was escalated to your team"
    ]
    assert f"[REQ-{rid:05d}] New message" in [m["Subject"] for m in inbox[0].to("dana@example.org")]
    assert inbox[0].to("maria@example.com") == []


def test_sla_warning_notifies_the_acting_spoc(
    notified: Org, inbox: tuple[Inbox, int], clock: FrozenClock
) -> None:
    rid = notified.file()
    clock.advance(timedelta(hours=6))
    notified.spoc.sweep()
    deliver(notified)
    subjects = [m["Subject"] for m in inbox[0].to("dana@example.org")]
    assert f"[REQ-{rid:05d}] First response due Mon 02 Mar 17:00: warning" in subjects


def test_webhooks_are_signed_and_carry_no_message_text(
    make_app: AppFactory, receiver: ThreadingHTTPServer
) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    org = build_org(spoc_of(make_app(webhook_urls=[url], webhook_secret=SECRET)))
    rid = org.file()
    org.spoc.requests.post_message(rid, org.actor(org.dana), "private words")
    deliver(org)
    kinds = [b["event"] for b in receiver.bodies]  # type: ignore[attr-defined]
    assert kinds == ["created", "assigned", "message", "status_changed"]
    assert "private words" not in json.dumps(receiver.bodies)  # type: ignore[attr-defined]


def test_receiver_down_then_up_every_message_arrives_once(
    make_app: AppFactory, receiver: ThreadingHTTPServer, clock: FrozenClock
) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    org = build_org(spoc_of(make_app(webhook_urls=[url], webhook_secret=SECRET)))
    org.file()
    receiver.failing = True  # type: ignore[attr-defined]
    first = org.spoc.outbox.deliver_due()
    # The SPOC's mail is written to the log (no SMTP in this test); both webhooks fail.
    assert (first.sent, first.retried) == (1, 2)
    with org.spoc.db.reader() as session:
        waits = {
            m.next_attempt_at - clock.now()
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == "webhook")
            )
        }
    assert waits == {timedelta(seconds=30)}
    clock.advance(timedelta(seconds=29))
    assert org.spoc.outbox.deliver_due().claimed == 0  # not yet
    receiver.failing = False  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=1))
    assert org.spoc.outbox.deliver_due().sent == 2
    assert sorted(receiver.seen.values()) == [1, 1]  # type: ignore[attr-defined]


def test_a_worker_killed_between_send_and_mark_sent_is_recovered_without_loss(
    make_app: AppFactory, receiver: ThreadingHTTPServer, clock: FrozenClock
) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    spoc = spoc_of(make_app(webhook_urls=[url], webhook_secret=SECRET))
    org = build_org(spoc)
    for _ in range(3):
        org.file()
    with spoc.db.reader() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        webhooks = session.scalar(select(func.count()).where(OutboxMessage.channel == "webhook"))
    dying = spoc.deliverer()
    message = dying.claim_one()
    assert message is not None and message.channel == "webhook"
    dying.channels["webhook"](message)  # sent ... and the process dies here
    # A fresh worker sends everything else at once: the dead one held only its message.
    report = spoc.deliverer().deliver_due()
    assert (report.claimed, report.sent) == (queued - 1, queued - 1)
    assert spoc.deliverer().deliver_due().claimed == 0  # the one in flight waits out its lease
    clock.advance(timedelta(seconds=spoc.settings.outbox_lease_seconds + 1))
    assert spoc.deliverer().deliver_due().sent == 1
    with spoc.db.reader() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}
    assert len(receiver.seen) == webhooks  # type: ignore[attr-defined]  # every key arrived
    assert receiver.seen[message.idempotency_key] == 2  # type: ignore[attr-defined]  # deduped by key
    assert sorted(receiver.seen.values()).count(2) == 1  # type: ignore[attr-defined]


def test_two_workers_at_once_send_each_message_exactly_once(
    make_app: AppFactory, receiver: ThreadingHTTPServer
) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    first = spoc_of(make_app(webhook_urls=[url], webhook_secret=SECRET))
    second = spoc_of(make_app(webhook_urls=[url], webhook_secret=SECRET))
    org = build_org(first)
    for _ in range(10):
        org.file()
    barrier = threading.Barrier(2)

    def work(spoc: Spoc) -> None:
        barrier.wait()
        while spoc.outbox.deliver_due(limit=5).claimed:
            pass

    threads = [threading.Thread(target=work, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.seen) == 20  # type: ignore[attr-defined]
    assert set(receiver.seen.values()) == {1}  # type: ignore[attr-defined]


def test_dead_letters_after_repeated_failure_and_admins_retry(
    make_app: AppFactory, inbox: tuple[Inbox, int], clock: FrozenClock
) -> None:
    app = make_app(smtp_host="127.0.0.1", smtp_port=free_port(), outbox_max_attempts=2)
    org = build_org(spoc_of(app))
    org.file()
    assert org.spoc.outbox.deliver_due().retried == 1
    clock.advance(timedelta(minutes=1))
    assert org.spoc.outbox.deliver_due().dead == 1
    with org.spoc.db.reader() as session:
        dead = session.scalar(select(OutboxMessage).where(OutboxMessage.status == "dead"))
    assert dead is not None and "ConnectionRefusedError" in (dead.last_error or "")
    lee = app.test_client()
    login(lee, org.spoc, org.lee)
    assert lee.get("/console/admin/outbox").status_code == 403
    ada = app.test_client()
    login(ada, org.spoc, org.ada)
    assert "ConnectionRefusedError" in ada.get("/console/admin/outbox").get_data(as_text=True)
    # The SMTP server comes back at the configured port: retry and deliver.
    org.spoc.settings.smtp_port = inbox[1]
    response = ada.post(
        f"/console/admin/outbox/{dead.id}/retry",
        data={"csrf_token": csrf_token(ada, "/console/absences")},
    )
    assert response.status_code == 303
    assert org.spoc.outbox.deliver_due().sent == 1
    assert len(inbox[0].to("dana@example.org")) == 1


def test_hook_notification_channels_deliver_plugin_messages(make_app: AppFactory) -> None:
    app = make_app(plugins=["generic", "pager"], plugin_entry_points=with_fakes("pager"))
    spoc = spoc_of(app)
    pager.PAGED.clear()
    with spoc.db.transaction() as session:
        enqueue(
            session,
            channel="pager",
            recipient="+44 7700 900000",
            body_text="P1 outage",
            now=spoc.clock.now(),
            key="page-1",
        )
    assert spoc.outbox.deliver_due().sent == 1
    assert [(p.recipient, p.body_text, p.idempotency_key) for p in pager.PAGED] == [
        ("+44 7700 900000", "P1 outage", "page-1")
    ]


def test_outbox_cli(make_app: AppFactory) -> None:
    from click.testing import CliRunner

    from spoc.core.cli import main

    app = make_app()
    org = build_org(spoc_of(app))
    org.file()
    env = {
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": org.spoc.db.url,
        "SPOC_PLUGINS": "generic",
        "SPOC_CALENDARS": '{"default": {"always_open": true}}',
    }
    runner = CliRunner()
    result = runner.invoke(main, ["outbox", "deliver"], env=env)
    assert result.exit_code == 0 and result.output.startswith("Outbox: claimed 1, sent 1"), (
        result.output
    )
    assert runner.invoke(main, ["outbox", "dead"], env=env).output.strip() == "No dead messages."
    assert runner.invoke(main, ["outbox", "retry", "1"], env=env).exit_code == 1


def test_the_documented_table_states_every_rule() -> None:
    from pathlib import Path

    from spoc.core.domain.notice_rules import RULES

    table = (Path(__file__).resolve().parents[3] / "docs" / "notifications.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    for rule in RULES:
        assert any(
            row.startswith(f"| {rule.event} | {rule.audience}") and rule.when in row for row in rows
        ), f"docs/notifications.md lacks the rule {rule}"


def test_a_plugin_overrides_a_mail_template_by_shipping_it(
    make_app: AppFactory, inbox: tuple[Inbox, int]
) -> None:
    app = make_app(
        plugins=["generic", "pager"],
        plugin_entry_points=with_fakes("pager"),
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
    )
    org = build_org(spoc_of(app))
    rid = org.file()
    deliver(org)
    [mail] = inbox[0].to("dana@example.org")
    body = mail.get_body(("plain",)).get_content()
    assert body.startswith(f"[overridden by a plugin] New request for you — REQ-{rid:05d}")


def test_worker_runs_sweep_and_delivery(make_app: AppFactory, clock: FrozenClock) -> None:
    from click.testing import CliRunner

    from spoc.core.cli import main

    org = build_org(spoc_of(make_app()))
    org.file()
    env = {
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": org.spoc.db.url,
        "SPOC_PLUGINS": "generic",
        "SPOC_CALENDARS": '{"default": {"always_open": true}}',
    }
    result = CliRunner().invoke(main, ["worker", "--passes", "1"], env=env)
    assert result.exit_code == 0, result.output
    with org.spoc.db.reader() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}
