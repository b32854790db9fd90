"""Bulk rows for the benchmarks: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

Seeding goes straight into the tables, not through the services: the service path costs
milliseconds a row (bench/service.py), which would make a million requests a matter of hours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, text

from spoc.core.storage.db import Database

FAR = datetime(9999, 1, 1, tzinfo=UTC)  # "no deadline", as the requests table stores it


def request_row(
    i: int, summary: str, fields: Mapping[str, Any], contact: int, at: datetime, **more: Any
) -> dict[str, Any]:
    """An open generic question, as the requests table holds it."""
    return {
        "id": i,
        "type_key": "generic.question",
        "summary": summary,
        "fields": dict(fields),
        "priority": "P3",
        "status": "open",
        "contact_id": contact,
        "escalation_level": 0,
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "deadline_at": FAR,
        **more,
    }


def bulk_insert(db: Database, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``rows`` (dicts with the same keys) into ``table`` in one go."""
    if not rows:
        return
    columns = list(rows[0])
    if db.engine.dialect.name == "sqlite":
        _sqlite_rows(db, table, columns, rows)
        return
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as conn:
            conn.execute(insert(table), list(rows))
        return
    raw = db.engine.raw_connection()
    try:
        # The table and column names come from the models, never from input.
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor().copy(statement) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(
                    [json.dumps(v) if isinstance(v, dict) else v for v in (row[c] for c in columns)]
                )
        raw.commit()
    finally:
        raw.close()


def _sqlite_rows(
    db: Database, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Straight to the driver in one transaction, each value through its column type's own
    bind processor (so stored exactly as the application would store it): an order of
    magnitude faster than SQLAlchemy's executemany for millions of rows."""
    dialect = db.engine.dialect
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    marks = ", ".join("?" for _ in columns)
    # The table and column names come from the models, never from input.
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    values = [
        tuple(p(row[c]) if p else row[c] for c, p in zip(columns, processors, strict=True))
        for row in rows
    ]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(statement, values)
        cursor.execute("COMMIT")
    finally:
        raw.close()


def after_bulk(db: Database, tables: Sequence[str]) -> None:
    """On PostgreSQL, move the id sequences past the rows written and refresh the planner's
    statistics; nothing to do elsewhere."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as conn:
        for name in tables:
            # The names are the benchmarks' own literals, never input.
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {name}))"
                )
            )
        conn.execute(text("ANALYZE"))
