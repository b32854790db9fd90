"""For migration tests that carry a plugin's rows over: a real, empty database (SQLite, and
PostgreSQL when the test URL is set), migrated up to a plugin's older revision."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from spoc import FrozenClock, create_app
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
