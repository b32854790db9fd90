"""The escalation deadlines move into the core's watches, carried over with real rows (and
back again on downgrade)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert, select

from spoc import FrozenClock, Role, Spoc, UTCDateTime, Watch
from spoc.core.domain.models import Escalation, Team
from spoc.core.storage import migrate
from spoc.plugins.logistics.models import Order, Shipment, ShipmentException
from tests.plugins.carry_over import app_at, columns, downgrade_plugin, empty_database_url

__all__ = ["empty_database_url"]

H = timedelta(hours=1)
D = timedelta(days=1)
BEFORE = "l003_customer_notice"

OLD_EXCEPTIONS = sa.table(
    "logistics_exceptions",
    sa.column("id", sa.Integer()),
    sa.column("shipment_id", sa.Integer()),
    sa.column("cause", sa.String()),
    sa.column("request_id", sa.Integer()),
    sa.column("reason", sa.String()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("level_wanted", sa.Integer()),
    sa.column("escalation_due", sa.Boolean()),
    sa.column("notice_due", sa.Boolean()),
)
OLD_CLAIMS = sa.table(
    "logistics_claims",
    sa.column("id", sa.Integer()),
    sa.column("request_id", sa.Integer()),
    sa.column("mode", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("basis", sa.String()),
    sa.column("deadline_at", UTCDateTime()),
    sa.column("deadline_escalated", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)


def old_rows(spoc: Spoc, clock: FrozenClock) -> list[int]:
    """Two exceptions (one still to escalate to both levels, one dealt with) and three claims
    (one counting down, one escalated, one without a deadline), as l003 stored them."""
    now = clock.now()
    dana = spoc.directory.add_agent(email="dana@example.org", name="Dana Reyes", role=Role.AGENT)
    account = spoc.directory.add_subject(
        kind="logistics.account", name="Acme Retail", spoc_agent_id=dana.id, external_ref="ACME"
    )
    rids = [
        spoc.requests.create(
            type_key="generic.question",
            fields={"summary": f"Carried over {n}"},
            requester={"name": "Petra Weiss", "email": "petra@acme.example"},
        ).id
        for n in range(5)
    ]
    with spoc.db.transaction() as session:
        order = Order(
            order_number="PO-1",
            account_id=account.id,
            customer_name="Petra Weiss",
            customer_email="petra@acme.example",
            created_at=now,
        )
        session.add(order)
        session.flush()
        road, air = (
            Shipment(
                order_id=order.id,
                carrier=carrier,
                tracking_number=number,
                mode=mode,
                domestic=mode == "road",
                created_at=now,
            )
            for carrier, number, mode in (("DHL", "JD0001", "road"), ("LH", "AWB-7", "air"))
        )
        session.add_all([road, air])
        session.flush()
        exception = {"notice_due": False}
        session.execute(
            insert(OLD_EXCEPTIONS),
            [
                {
                    **exception,
                    "shipment_id": road.id,
                    "cause": "eta_slip",
                    "request_id": rids[0],
                    "reason": "Shipment DHL JD0001 is now expected four days late",
                    "opened_at": now - H,
                    "level_wanted": 2,
                    "escalation_due": True,
                },
                {
                    **exception,
                    "shipment_id": air.id,
                    "cause": "damage",
                    "request_id": rids[1],
                    "reason": "Shipment LH AWB-7 was reported damaged",
                    "opened_at": now - 2 * H,
                    "level_wanted": 1,
                    "escalation_due": False,
                },
            ],
        )
        claim = {"mode": "road", "kind": "delay", "basis": "scan", "created_at": now}
        session.execute(
            insert(OLD_CLAIMS),
            [
                # Warned two days (the default) before its deadline: in an hour.
                {
                    **claim,
                    "request_id": rids[2],
                    "deadline_at": now + 2 * D + H,
                    "deadline_escalated": False,
                },
                {
                    **claim,
                    "request_id": rids[3],
                    "deadline_at": now + D,
                    "deadline_escalated": True,
                },
                {**claim, "request_id": rids[4], "deadline_at": None, "deadline_escalated": True},
            ],
        )
    return rids


def carried(spoc: Spoc) -> list[tuple[str, int | None, object, bool]]:
    with spoc.db.reader() as session:
        return [
            (w.cause, w.request_id, w.due_at, w.settled_at is not None)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]


def old_flags(spoc: Spoc) -> tuple[list[bool], list[bool]]:
    with spoc.db.reader() as session:
        due = session.scalars(select(OLD_EXCEPTIONS.c.escalation_due).order_by(OLD_EXCEPTIONS.c.id))
        escalated = session.scalars(
            select(OLD_CLAIMS.c.deadline_escalated).order_by(OLD_CLAIMS.c.id)
        )
        return [bool(x) for x in due], [bool(x) for x in escalated]


def plugin_escalations(spoc: Spoc) -> list[tuple[int, int, str, str]]:
    with spoc.db.reader() as session:
        rows = session.execute(
            select(Escalation.request_id, Escalation.level, Team.key, Escalation.trigger)
            .join(Team, Team.id == Escalation.to_team_id)
            .where(Escalation.trigger.startswith("plugin:"))
            .order_by(Escalation.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_escalation_deadlines_are_carried_over_into_the_core_and_back(
    empty_database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    spoc = app_at(empty_database_url, clock, "logistics", BEFORE, tmp_path)
    now = clock.now()
    rids = old_rows(spoc, clock)
    migrate.upgrade(spoc.db, spoc.host)

    assert "escalation_due" not in columns(spoc, "logistics_exceptions")
    assert "deadline_escalated" not in columns(spoc, "logistics_claims")
    expected = [
        ("logistics:eta_slip", rids[0], now - H, False),
        ("logistics:damage", rids[1], now - 2 * H, True),
        ("logistics:eta_slip_authority", rids[0], now - H, False),
        # Due at once: the plugin re-arms it for its warning time (a setting).
        ("logistics:claim_deadline", rids[2], now, False),
        ("logistics:claim_deadline", rids[3], now, True),
    ]
    assert carried(spoc) == expected
    with spoc.db.reader() as session:
        still_due = session.scalars(
            select(ShipmentException.escalation_due).order_by(ShipmentException.id)
        )
        assert [bool(x) for x in still_due] == [True, False]

    downgrade_plugin(spoc, "logistics", BEFORE)
    assert old_flags(spoc) == ([True, False], [False, True, True])
    assert carried(spoc) == []
    migrate.upgrade(spoc.db, spoc.host)
    assert carried(spoc) == expected

    assert spoc.sweep().plugin_triggers == 2
    assert plugin_escalations(spoc) == [
        (rids[0], 1, "carrier_desk", "plugin:logistics:eta_slip"),
        (rids[0], 2, "account_management", "plugin:logistics:eta_slip_authority"),
    ]
    with spoc.db.reader() as session:
        claim = session.scalar(
            select(Watch).where(Watch.request_id == rids[2], Watch.cause.endswith("deadline"))
        )
        assert claim is not None and (claim.due_at, claim.settled_at) == (now + H, None)
    clock.advance(H)
    assert spoc.sweep().plugin_triggers == 1
    assert spoc.sweep().plugin_triggers == 0
    assert plugin_escalations(spoc)[2:] == [
        (rids[2], 1, "claims", "plugin:logistics:claim_deadline")
    ]
    spoc.db.dispose()
