"""For migration tests that carry a plugin's rows over: a real, empty database (SQLite, and
PostgreSQL when the test URL is set), migrated up to a plugin's older revision."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from spoc import FrozenClock, UTCDateTime, Watch, create_app
from spoc.core.domain.models import Escalation, Team
from spoc.core.services import Spoc, spoc_of
from spoc.core.storage import migrate
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"spoc_carry_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_at(
    url: str, clock: FrozenClock, plugin: str, revision: str, tmp_path: Path, **settings: Any
) -> Spoc:
    """An app with ``plugin`` (and generic) on a database whose core is current and whose
    ``plugin`` history stops at ``revision``."""
    app = create_app(
        env="test",
        database_url=url,
        clock=clock,
        plugins=["generic", plugin],
        instance_path=tmp_path / "instance",
        calendars={"default": {"always_open": True}},
        **settings,
    )
    spoc = spoc_of(app)
    for history in migrate.histories(spoc.host):
        config = history.config()
        with spoc.db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision if history.owner == plugin else "heads")
    return spoc


def downgrade_plugin(spoc: Spoc, plugin: str, revision: str) -> None:
    """Take ``plugin``'s history back to ``revision`` (the core stays current)."""
    for history in migrate.histories(spoc.host):
        if history.owner == plugin:
            config = history.config()
            with spoc.db.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, revision)


def columns(spoc: Spoc, table: str) -> set[str]:
    with spoc.db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        if not inspector.has_table(table):
            return set()
        return {column["name"] for column in inspector.get_columns(table)}


def check_watches_carry_over(
    url: str, clock: FrozenClock, tmp_path: Path, plugin: str, before: str, team: str
) -> None:
    """Real rows in the plugin's old ``<plugin>_watches`` table (one due later, one settled)
    come over into the core's watches with their times, team and reason; the old table is
    gone; the due one escalates once under the same trigger as before, the settled one never."""
    spoc = app_at(url, clock, plugin, before, tmp_path)
    now = clock.now()
    old = sa.table(
        f"{plugin}_watches",
        sa.column("request_id", sa.Integer()),
        sa.column("cause", sa.String()),
        sa.column("team_key", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("due_at", UTCDateTime()),
        sa.column("settled_at", UTCDateTime()),
    )
    rid = spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Carried over"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
    ).id
    rows = [
        {
            "request_id": rid,
            "cause": "waiting",
            "team_key": team,
            "reason": "Still waiting",
            "due_at": now + timedelta(hours=1),
            "settled_at": None,
        },
        {
            "request_id": rid,
            "cause": "done",
            "team_key": team,
            "reason": "Dealt with",
            "due_at": now - timedelta(hours=1),
            "settled_at": now - timedelta(minutes=5),
        },
    ]
    with spoc.db.transaction() as session:
        session.execute(insert(old), rows)
    migrate.upgrade(spoc.db, spoc.host)

    with spoc.db.reader() as session:
        carried = [
            (w.cause, w.request_id, w.escalate_to, w.reason, w.due_at, w.settled_at)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]
        assert not sa.inspect(session.connection()).has_table(f"{plugin}_watches")
    assert carried == [
        (f"{plugin}:{r['cause']}", rid, team, r["reason"], r["due_at"], r["settled_at"])
        for r in rows
    ]
    assert spoc.sweep().plugin_triggers == 0  # the settled one stays settled
    clock.advance(timedelta(hours=1))
    assert spoc.sweep().plugin_triggers == 1
    assert spoc.sweep().plugin_triggers == 0
    with spoc.db.reader() as session:
        fired = session.execute(
            select(Team.key, Escalation.trigger).join(Team, Team.id == Escalation.to_team_id)
        ).all()
    assert [tuple(f) for f in fired] == [(team, f"plugin:{plugin}:waiting")]
    spoc.db.dispose()
