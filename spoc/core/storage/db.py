"""Engine, sessions and column types shared by the core and plugin tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, Text, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from spoc.core.storage.keys import Sealer, Unreadable

# Deterministic constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    """Declarative base for core tables and plugin tables (``<plugin>_...``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC instants; always hands back timezone-aware UTC datetimes.

    SQLite has no time zones, so values are stored naive-in-UTC there; naive input is refused
    everywhere, because a naive datetime in this code base is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


UNREADABLE = "[sealed with another SPOC_SECRET_KEY, or altered: cannot be read]"
SEALER = "spoc_sealer"


class SealedText(TypeDecorator[str]):
    """Text sealed at rest (AES-256-GCM, see :mod:`spoc.core.storage.keys`) and open in Python.

    The key belongs to the app, not to the column type: :class:`Database` puts its
    :class:`~spoc.core.storage.keys.Sealer` on its engine's dialect, the one object SQLAlchemy hands
    to a type when it binds or reads a value. Reading text no key here opens gives
    :data:`UNREADABLE` instead of failing the whole query (one bad row never stops a list or a
    delivery pass; the deliverer dead-letters it).
    """

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        sealer: Sealer | None = getattr(dialect, SEALER, None)
        if sealer is None:
            raise RuntimeError("this engine has no sealer: open the database through create_app")
        return sealer.seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not Sealer.is_sealed(value):
            return value
        sealer: Sealer | None = getattr(dialect, SEALER, None)
        if sealer is None:
            return UNREADABLE
        try:
            return sealer.open(value, self.purpose)
        except Unreadable:
            return UNREADABLE


# JSONB on PostgreSQL (indexable, compact), JSON elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite (which begins lazily, before the first
    # write): SQLAlchemy's "begin" event below issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITE = "spoc_write"


def _sqlite_begin(connection: Any) -> None:
    # A write transaction takes SQLite's write lock up front (BEGIN IMMEDIATE), so concurrent
    # writers queue on busy_timeout instead of failing with "database is locked" when a read
    # transaction tries to upgrade to a write after another writer committed.
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            # Each connection to :memory: is a new empty database; never pool it silently.
            kwargs.setdefault("poolclass", NullPool)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        # No JIT compilation: it pays off for long analytic queries, while SPOC's are short and
        # indexed, and a plan whose estimate crosses jit_above_cost (a search's bounded scan)
        # spent 35-60 ms compiling to save nothing.
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("options", "-c jit=off")
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


class Database:
    """An engine and its session factory; kept on the app, never in a module global."""

    def __init__(self, url: str, *, sealer: Sealer | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        if sealer is not None:
            setattr(self.engine.dialect, SEALER, sealer)  # see SealedText
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on any error."""
        with self.sessionmaker() as session, session.begin():
            session.connection(execution_options={WRITE: True})
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads, closed when the block ends; nothing it changes is committed."""
        with self.sessionmaker() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (tests and commands call it when they finish)."""
        self.engine.dispose()
