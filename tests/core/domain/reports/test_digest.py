"""The weekly digest: queued through the outbox for each subscriber once per week, however
many workers pass, from Monday 07:00; nobody else gets it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from spoc import FrozenClock
from spoc.core.domain.models import OutboxMessage
from tests.conftest import Org


def digests(org: Org) -> list[tuple[str, str, str]]:
    with org.spoc.db.reader() as session:
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text)
            .where(OutboxMessage.subject.contains("weekly report"))
            .order_by(OutboxMessage.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_subscribers_get_last_weeks_digest_once_a_week(org: Org) -> None:
    spoc, clock = org.spoc, org.spoc.clock
    assert isinstance(clock, FrozenClock)
    for _ in range(3):
        org.file()
    spoc.reports.subscribe(org.actor(org.val), True)
    spoc.reports.subscribe(org.actor(org.dana), True)
    spoc.reports.subscribe(org.actor(org.dana), False)
    # Monday 2 March 09:00: the week before is due (nothing in it yet).
    assert spoc.reports.send_digests() == 1
    assert spoc.reports.send_digests() == 0  # a second worker pass: already sent
    clock.advance(timedelta(days=6))  # Sunday: still this week's
    assert spoc.reports.send_digests() == 0
    clock.advance(timedelta(hours=23))  # Monday 9 March 08:00: last week's is due
    assert spoc.reports.send_digests() == 1
    sent = digests(org)
    assert [to for to, _, _ in sent] == ["val@example.org", "val@example.org"]
    _, subject, body = sent[1]
    assert subject == "Your weekly report: 02 Mar to 08 Mar"
    assert "New requests: 3 (fewer than 3)" in body
    assert "/console/reports" in body
