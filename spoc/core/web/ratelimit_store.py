"""A ``limits`` storage in a SQLite file of the instance folder (``spoc+sqlite:///path``).

Why: the in-memory storage counts per process, so each gunicorn worker had its own count
(two workers let 19 sign-ins a minute through instead of 10). A SQLite file next to the
app's other local state is shared by every worker of one server, needs no extra service and
keeps rate-limit writes off the application database (on the default SQLite database they
would queue behind every business transaction for its single write lock). Several servers
share counts through Redis (``SPOC_REDIS_URL``) instead.

Each check is one short ``BEGIN IMMEDIATE`` transaction (WAL journal, no fsync per commit),
so two workers cannot both take the last slot. Connections are per process and thread:
none crosses gunicorn's fork.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import MovingWindowSupport, Storage

SCHEME = "spoc+sqlite"
CLEANUP_EVERY = 500  # acquisitions between purges of expired rows

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_key_at ON hits (key, at);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL
);
"""


def storage_uri(path: Path) -> str:
    return f"{SCHEME}:///{path.resolve()}"


class SqliteStorage(Storage, MovingWindowSupport):
    """Moving-window and fixed-window counts in one SQLite file."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        if not uri or "://" not in uri:
            raise ValueError(f"{SCHEME} storage needs a file: {SCHEME}:///path/to/file.sqlite")
        self.path = Path("/" + uri.split("://", 1)[1].lstrip("/"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._acquired = 0
        with self._connection() as connection:
            connection.executescript(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    # --- moving window (the strategy SPOC uses) --------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        connection = self._connection()
        now = time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            (count,) = connection.execute(
                "SELECT count(*) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            if count + amount > limit:
                connection.execute("COMMIT")
                return False
            connection.executemany(
                "INSERT INTO hits (key, at, expires) VALUES (?, ?, ?)",
                [(key, now, now + expiry)] * amount,
            )
            self._acquired += 1
            if self._acquired % CLEANUP_EVERY == 0:
                connection.execute("DELETE FROM hits WHERE expires <= ?", (now,))
                connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, count = (
            self._connection()
            .execute(
                "SELECT min(at), count(*) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            )
            .fetchone()
        )
        return (oldest if oldest is not None else now), int(count)

    # --- fixed window and the rest of the Storage interface ---------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        connection = self._connection()
        now = time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute(
                "SELECT count, expires FROM counters WHERE key = ?", (key,)
            ).fetchone()
            if row is None or row[1] <= now:
                count, expires = amount, now + expiry
            else:
                count, expires = row[0] + amount, row[1]
            connection.execute(
                "INSERT OR REPLACE INTO counters (key, count, expires) VALUES (?, ?, ?)",
                (key, count, expires),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT expires FROM counters WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        connection = self._connection()
        (hits,) = connection.execute("SELECT count(*) FROM hits").fetchone()
        (counters,) = connection.execute("SELECT count(*) FROM counters").fetchone()
        connection.execute("DELETE FROM hits")
        connection.execute("DELETE FROM counters")
        return int(hits) + int(counters)

    def clear(self, key: str) -> None:
        connection = self._connection()
        connection.execute("DELETE FROM hits WHERE key = ?", (key,))
        connection.execute("DELETE FROM counters WHERE key = ?", (key,))
