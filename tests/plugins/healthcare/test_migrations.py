"""h005 carries the plugin's own deadlines over into the core's watches, with real rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert, select

from spoc import FrozenClock, UTCDateTime, Watch
from spoc.core.domain.models import Escalation, Team
from spoc.core.storage import migrate
from tests.plugins.carry_over import app_at, empty_database_url

__all__ = ["empty_database_url"]

OLD = sa.table(
    "healthcare_watches",
    sa.column("request_id", sa.Integer()),
    sa.column("cause", sa.String()),
    sa.column("team_key", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("due_at", UTCDateTime()),
    sa.column("settled_at", UTCDateTime()),
)


def test_h005_carries_watches_over_and_they_still_fire_once(
    empty_database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    spoc = app_at(empty_database_url, clock, "healthcare", "h004_records_integrity", tmp_path)
    now = clock.now()
    rid = spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Referral to cardiology"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
    ).id
    with spoc.db.transaction() as session:
        session.execute(
            insert(OLD),
            [
                {
                    "request_id": rid,
                    "cause": "referral_not_accepted",
                    "team_key": "referrals",
                    "reason": "Referral not accepted within 2 business days",
                    "due_at": now + timedelta(hours=1),
                    "settled_at": None,
                },
                {
                    "request_id": rid,
                    "cause": "referral_no_result",
                    "team_key": "referrals",
                    "reason": "No referral result within 30 days",
                    "due_at": now - timedelta(hours=1),
                    "settled_at": now - timedelta(minutes=5),
                },
            ],
        )
    migrate.upgrade(spoc.db, spoc.host)

    with spoc.db.reader() as session:
        rows = [
            (w.cause, w.request_id, w.escalate_to, w.reason, w.due_at, w.settled_at)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]
        assert not sa.inspect(session.connection()).has_table("healthcare_watches")
    assert rows == [
        (
            "healthcare:referral_not_accepted",
            rid,
            "referrals",
            "Referral not accepted within 2 business days",
            now + timedelta(hours=1),
            None,
        ),
        (
            "healthcare:referral_no_result",
            rid,
            "referrals",
            "No referral result within 30 days",
            now - timedelta(hours=1),
            now - timedelta(minutes=5),
        ),
    ]
    assert spoc.sweep().plugin_triggers == 0  # the settled one stays settled
    clock.advance(timedelta(hours=1))
    assert spoc.sweep().plugin_triggers == 1
    assert spoc.sweep().plugin_triggers == 0
    with spoc.db.reader() as session:
        fired = session.execute(
            select(Team.key, Escalation.trigger).join(Team, Team.id == Escalation.to_team_id)
        ).all()
    assert [tuple(f) for f in fired] == [("referrals", "plugin:healthcare:referral_not_accepted")]
    spoc.db.dispose()
