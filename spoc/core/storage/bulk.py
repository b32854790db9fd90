"""Set-based writes: many rows in one statement, and id sets as one parameter.

Two things cost most when a pass touches thousands of rows on PostgreSQL: a long ``IN`` list
(psycopg parses the statement text, and every size is a new statement for the server) and a
multi-row ``INSERT … VALUES`` of thousands of rows (the same parsing, per page of rows).
:func:`among` sends an id set as one array parameter (``= ANY(:ids)``), and
:func:`insert_rows` writes with ``COPY`` inside the session's transaction; elsewhere (SQLite)
``among`` is a plain ``IN`` and ``insert_rows`` the driver's own ``executemany`` (SQLAlchemy's
per-row parameter handling cost more than SQLite's insert itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, any_, bindparam, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def postgres(session: Session) -> bool:
    """Is this session's database PostgreSQL?"""
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids``: one array parameter on PostgreSQL, a plain ``IN`` elsewhere."""
    if postgres(session):
        found: ColumnElement[bool] = column == any_(
            bindparam(None, list(ids), type_=postgresql.ARRAY(Integer))
        )
        return found
    listed: ColumnElement[bool] = column.in_(list(ids))
    return listed


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column values as Python objects) into
    ``table`` in the session's transaction: ``COPY`` on PostgreSQL, one ``executemany`` of
    the driver elsewhere. Column types still apply (a sealed column is sealed, JSON is
    encoded); what the ORM holds is flushed first, in order."""
    if not rows:
        return
    session.flush()
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    values = (
        [
            value if process is None else process(value)
            for process, value in zip(processors, (row[c] for c in columns), strict=True)
        ]
        for row in rows
    )
    driver = session.connection().connection.driver_connection
    assert driver is not None
    # The table and column names come from the models, never from input.
    names = ", ".join(columns)
    if not postgres(session):
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
        cursor = driver.cursor()
        try:
            cursor.executemany(statement, values)
        finally:
            cursor.close()
        return
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row_values in values:
            copy.write_row(row_values)


class Ids:
    """Primary keys handed out before the rows are written, for a batch that inserts its rows
    itself and needs their ids first (the timeline names an escalation by id). On PostgreSQL
    they come from the table's sequence, ``wanted`` at a time (one query; unused ones are a
    gap, as after a rolled-back INSERT); on SQLite after the table's largest id, which is safe
    because the batch's write transaction holds the database's write lock."""

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table
        self._free: list[int] = []
        self._last: int | None = None  # SQLite: the largest id handed out so far

    def take(self, wanted: int = 1) -> int:
        """The next id; when none is left in hand, reserve ``wanted`` more."""
        if not self._free:
            self._free = self._reserve(max(wanted, 1))[::-1]
        return self._free.pop()

    def _reserve(self, count: int) -> list[int]:
        if postgres(self.session):
            return sorted(
                self.session.scalars(
                    text(
                        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                        "FROM generate_series(1, :count)"
                    ),
                    {"table": self.table.name, "count": count},
                )
            )
        if self._last is None:
            self._last = self.session.scalar(select(func.coalesce(func.max(self.table.c.id), 0)))
        assert self._last is not None
        first, self._last = self._last + 1, self._last + count
        return list(range(first, self._last + 1))
