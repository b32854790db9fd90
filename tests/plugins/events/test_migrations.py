"""The plugin's migrations build exactly the tables its models describe, and carry the vendor
triggers over into the core's watches with real rows (and back again on downgrade): what was
waiting still opens its request once, what was opened escalates once, what was dealt with
never fires."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import insert, select

from spoc import Actor, FrozenClock, Spoc, UTCDateTime, Watch
from spoc.core.domain.models import Escalation, Team
from spoc.core.services import spoc_of
from spoc.core.storage import migrate
from spoc.core.storage.db import Model
from spoc.plugins.events import program
from spoc.plugins.events.models import Deliverable, Vendor, VendorAlert
from spoc.plugins.events.settings import EventsSettings
from tests.plugins.carry_over import app_at, columns, downgrade_plugin, empty_database_url

__all__ = ["empty_database_url"]

H = timedelta(hours=1)
BEFORE = "e003_need_erasure_index"

OLD_WATCHES = sa.table(
    "events_watches",
    sa.column("id", sa.Integer()),
    sa.column("key", sa.String()),
    sa.column("vendor_id", sa.Integer()),
    sa.column("deliverable_id", sa.Integer()),
    sa.column("cause", sa.String()),
    sa.column("due_at", UTCDateTime()),
    sa.column("state", sa.String()),
    sa.column("request_id", sa.Integer()),
    sa.column("team_key", sa.String()),
    sa.column("reason", sa.String()),
)
FIELDS = (
    "key",
    "vendor_id",
    "deliverable_id",
    "cause",
    "due_at",
    "state",
    "request_id",
    "team_key",
    "reason",
)


def old_rows(spoc: Spoc, now: datetime) -> tuple[int, list[dict[str, Any]]]:
    """An event with two vendors and five triggers, one in each state, as e003 stored them.
    Returns the event's subject id and the rows."""
    settings = spoc.plugin_settings("events", EventsSettings)
    event = program.create_event(
        spoc,
        settings,
        Actor.system("test"),
        program.EventPlan(
            "EXPO26",
            "Service Desk Expo",
            "Javits Center, New York",
            "America/New_York",
            datetime(2026, 3, 20, 9, 0),
            datetime(2026, 3, 20, 18, 0),
            1200,
        ),
    )
    rids = [
        spoc.requests.create(
            type_key="generic.question",
            fields={"summary": f"Opened by a trigger {n}"},
            requester={"name": "Mia Klein", "email": "crew@brightstage.example"},
        ).id
        for n in range(2)
    ]
    with spoc.db.transaction() as session:
        stage, catering = (
            Vendor(event_id=event.id, code=code, name=name, onsite_email=email)
            for code, name, email in (
                ("AV1", "Bright Stage AV", "crew@brightstage.example"),
                ("CAT", "Catering Co", "ops@catering.example"),
            )
        )
        session.add_all([stage, catering])
        session.flush()
        rigging, power = (
            Deliverable(vendor_id=stage.id, what=what, due_at=due)
            for what, due in (("Rigging plan", now - H), ("Power plan", now + 24 * H))
        )
        session.add_all([rigging, power])
        session.flush()

        def row(cause: str, vendor: Vendor, deliverable: Deliverable | None, **kw: Any) -> Any:
            team = "event_operations" if cause == "not_checked_in" else "vendor_management"
            return {
                "key": f"{cause}:{vendor.id}:{deliverable.id if deliverable else 0}",
                "vendor_id": vendor.id,
                "deliverable_id": deliverable.id if deliverable else None,
                "cause": cause,
                "team_key": team,
                "reason": f"{vendor.name}: {cause.replace('_', ' ')}",
                "request_id": None,
                **kw,
            }

        rows = [
            row("not_checked_in", stage, None, due_at=now + H, state="waiting"),
            row(
                "deliverable_overdue", stage, rigging, due_at=now - H, state="opened",
                request_id=rids[0],
            ),
            row(
                "certificate_missing", stage, None, due_at=now - 2 * H, state="escalated",
                request_id=rids[1],
            ),
            row("deliverable_overdue", stage, power, due_at=now + 24 * H, state="cleared"),
            row("not_checked_in", catering, None, due_at=now - 3 * H, state="failed"),
        ]  # fmt: skip
        session.execute(insert(OLD_WATCHES), rows)
    return event.subject_id, rows


def core_watches(spoc: Spoc) -> list[tuple[Any, ...]]:
    with spoc.db.reader() as session:
        return [
            (w.cause, w.subject_id, w.request_id, w.due_at, w.escalate_to, w.settled_at is not None)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]


def alerts(spoc: Spoc) -> list[tuple[str, str, int | None]]:
    with spoc.db.reader() as session:
        found = session.execute(
            select(VendorAlert.key, VendorAlert.state, VendorAlert.request_id).order_by(
                VendorAlert.id
            )
        )
        return [tuple(a) for a in found]  # type: ignore[misc]


def plugin_escalations(spoc: Spoc) -> list[tuple[int, str, str]]:
    with spoc.db.reader() as session:
        rows = session.execute(
            select(Escalation.request_id, Team.key, Escalation.trigger)
            .join(Team, Team.id == Escalation.to_team_id)
            .where(Escalation.trigger.startswith("plugin:"))
            .order_by(Escalation.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_migrations_match_the_models(expo_app: Flask) -> None:
    def ours(name: str | None) -> bool:
        return bool(name and name.startswith("events_"))

    def include_name(name: str | None, type_: str, parent: object) -> bool:
        return type_ != "table" or ours(name)

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return type_ != "table" or ours(name)

    spoc = spoc_of(expo_app)
    with spoc.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object,
            },
        )
        diff = compare_metadata(context, Model.metadata)
    assert diff == []


def test_vendor_triggers_are_carried_over_into_the_core_and_back(
    empty_database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    spoc = app_at(empty_database_url, clock, "events", BEFORE, tmp_path)
    now = clock.now()
    subject, rows = old_rows(spoc, now)
    migrate.upgrade(spoc.db, spoc.host)

    assert columns(spoc, "events_watches") == set()
    assert alerts(spoc) == [(r["key"], r["state"], r["request_id"]) for r in rows]
    alert = [
        (f"events:vendor:{r['key']}", subject, None, r["due_at"], None, r["state"] != "waiting")
        for r in rows
    ]
    escalation = [
        (f"events:{r['cause']}", None, r["request_id"], r["due_at"], r["team_key"], done)
        for r, done in ((rows[1], False), (rows[2], True))
    ]
    assert core_watches(spoc) == alert + escalation

    downgrade_plugin(spoc, "events", BEFORE)
    with spoc.db.reader() as session:
        restored = session.execute(
            select(*(OLD_WATCHES.c[f] for f in FIELDS)).order_by(OLD_WATCHES.c.id)
        ).mappings()
        assert [dict(r) for r in restored] == rows
    assert core_watches(spoc) == []
    assert columns(spoc, "events_vendor_alerts") == set()
    migrate.upgrade(spoc.db, spoc.host)
    assert core_watches(spoc) == alert + escalation

    # The opened trigger escalates once; the escalated, cleared and failed ones never again.
    assert spoc.sweep().plugin_triggers == 1
    assert plugin_escalations(spoc) == [
        (rows[1]["request_id"], "vendor_management", "plugin:events:deliverable_overdue")
    ]
    # The waiting one opens its request at its instant, which escalates in the same pass.
    clock.advance(H)
    report = spoc.sweep()
    assert (report.plugin_tasks, report.plugin_triggers) == (1, 1)
    assert spoc.sweep().plugin_triggers == 0
    [opened] = [a for a in alerts(spoc) if a[0] == rows[0]["key"]]
    assert opened[1] == "escalated" and opened[2] is not None
    assert plugin_escalations(spoc)[1:] == [
        (opened[2], "event_operations", "plugin:events:not_checked_in")
    ]
    assert [a[1] for a in alerts(spoc)] == [
        "escalated",
        "escalated",
        "escalated",
        "cleared",
        "failed",
    ]
    spoc.db.dispose()
