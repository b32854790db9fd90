"""A migrated database per test: SQLite always, PostgreSQL too when ``SPOC_TEST_DATABASE_URL``
is set.

Migrations run once per backend per session into a template (a SQLite file copied for each
test; a PostgreSQL database emptied after each test), so every test starts from a real,
fully migrated schema without paying for the migrations every time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from spoc.core.app import create_app
from spoc.core.platform.plugins import installed_entry_points
from spoc.core.services import spoc_of

TEST_DATABASE_URL_ENV = "SPOC_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    """The PostgreSQL server the suite may use, or ``None`` to test on SQLite only."""
    return os.environ.get(TEST_DATABASE_URL_ENV) or None


def backends() -> list[str]:
    """The backends every database test runs on: ``sqlite``, and ``postgresql`` when set."""
    return ["sqlite"] + (["postgresql"] if postgres_url() else [])


def installed_plugins() -> list[str]:
    """Every installed plugin: the template schema holds all their tables, so a test may
    enable any of them."""
    return [ep.name for ep in installed_entry_points()]


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema of the core and every installed
    plugin."""
    app = create_app(
        env="test",
        database_url=url,
        plugins=installed_plugins(),
        # Migrations need no business hours; round-the-clock keeps start-up checks quiet.
        calendars={"default": {"always_open": True}},
    )
    spoc_of(app).upgrade_database()
    spoc_of(app).db.dispose()


@contextmanager
def scratch_postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database on ``server_url``'s server, dropped afterwards."""
    base = make_url(server_url)
    name = f"spoc_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        dispose(url)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate(url: str) -> None:
    """Empty every table but the migration histories and restart every sequence, so the next
    test starts as from a fresh migration.

    Deleting rows is much cheaper than ``TRUNCATE`` on tables that hold a few rows or none
    (``TRUNCATE`` gives every table a new file: about 0.1 s for the whole schema, each test).
    Foreign keys are not checked while emptying (``session_replication_role``), so the order
    of the tables does not matter; the statement is built once per database."""
    engine = _cleanup_engines.get(url)
    if engine is None:
        engine = _cleanup_engines[url] = create_engine(url, poolclass=StaticPool)
    with engine.begin() as connection:
        statement = _cleanup_statements.get(url)
        if statement is None:
            tables = [
                t
                for t in inspect(connection).get_table_names()
                if not t.startswith("alembic_version")
            ]
            # The table names come from the database's own catalogue, not from any input.
            deletes = "".join(f'DELETE FROM "{t}";' for t in tables)  # noqa: S608
            statement = _cleanup_statements[url] = (
                "SET LOCAL session_replication_role = replica;"  # noqa: S608
                + deletes
                + "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S';"
            )
        connection.exec_driver_sql(statement)


def dispose(url: str) -> None:
    """Close the connection :func:`truncate` keeps to the database at ``url``."""
    engine = _cleanup_engines.pop(url, None)
    _cleanup_statements.pop(url, None)
    if engine is not None:
        engine.dispose()


_cleanup_engines: dict[str, Engine] = {}
_cleanup_statements: dict[str, str] = {}
