"""Keyset pagination: one pager and one cursor format for every list of the core and plugins.

A list is a ``select`` and an :class:`Ordering`: columns, each ascending or descending, the
last one unique (``(deadline_at, id)``, ``(created_at desc, id desc)``, ``(id desc)``), none of
them NULL. :meth:`Pager.page` fetches one page after (or before) a cursor, ``limit + 1`` rows
to know whether another page follows, so page 1000 costs what page 1 costs when an index
serves the ordering. The condition is a row-value comparison (``(a, b) > (:a, :b)``) when
every key runs the same way, and the expanded form (``a >= :a AND (a > :a OR b < :b)``) when
directions are mixed.

A cursor is opaque to its reader and URL-safe: ``1.<payload>.<tag>``. The payload is the
ordering's name, the direction and the key values of the row it stands after (or before),
each with its type (a datetime always with its offset); the tag is an HMAC of the payload and
of the ordering's columns under a key derived from ``SPOC_SECRET_KEY``. So a cursor that was
altered, garbled, made for another list, or made before the list's ordering changed is refused
with :class:`CursorRejected` — a :class:`~spoc.core.kernel.errors.ValidationFailed` naming the
field the cursor came in — and never reaches the database.

Written here rather than taken from sqlakeyset: its bookmarks are unsigned and carry no list
identity, and it would bring a second cursor format next to the one we need anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Select, and_, literal, or_, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from spoc.core.kernel.errors import ValidationFailed

CURSOR_KEY_LABEL = "spoc/keyset-cursor/v1"
"""The HKDF label of the key that signs cursors (see :mod:`spoc.core.storage.keys`)."""
VERSION = "1"
MAX_CURSOR = 1000
TAG_BYTES = 16
FORWARD, BACKWARD = "n", "p"
T = TypeVar("T")
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"
"""A ``select()`` of any entities or columns."""


class CursorRejected(ValidationFailed):
    """A cursor this list did not make: garbled, altered, from another list, or out of date.
    ``field`` names where it came from (``cursor``, ``query.cursor``, ``after``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field} {message}", {field: message})


@dataclass(frozen=True)
class OrderKey:
    """One column of an ordering and its direction."""

    column: ColumnElement[Any]
    descending: bool = False


class Ordering:
    """A named ordering of one list: ``Ordering("queue:mine", Request.deadline_at, Request.id)``,
    ``Ordering("audit", AdminAuditEntry.id.desc())``.

    Give each list its own name: a cursor carries it, and another list refuses it. The last
    column must be unique (an id) so that no two rows tie, and no column may hold NULL (a NULL
    compares as unknown and the row would never be paged to). ``nulls_first``/``nulls_last``
    are refused for the same reason."""

    def __init__(self, name: str, *columns: Any) -> None:
        if not name or not columns:
            raise ValueError("an ordering needs a name and at least one column")
        keys: list[OrderKey] = []
        for given in columns:
            descending = False
            column = given
            if isinstance(given, UnaryExpression):
                if given.modifier is operators.desc_op:
                    descending = True
                elif given.modifier is not operators.asc_op:
                    raise ValueError(f"ordering {name!r}: only asc() and desc() are supported")
                column = given.element
            if hasattr(column, "__clause_element__"):
                column = column.__clause_element__()
            if not isinstance(column, ColumnElement):
                raise ValueError(f"ordering {name!r}: {given!r} is not a column")
            keys.append(OrderKey(column, descending))
        self.name = name
        self.keys = tuple(keys)
        self.signature = (
            name
            + ";"
            + ",".join(f"{k.column} {'desc' if k.descending else 'asc'}" for k in self.keys)
        )

    def __repr__(self) -> str:
        return f"Ordering({self.signature!r})"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its ``items`` in the ordering's order, and the cursors of the
    pages after and before it (``None`` when there is none)."""

    items: list[T]
    next: str | None = None
    previous: str | None = None


class Pager:
    """Pages any ``select`` by an :class:`Ordering`; its cursors are signed with ``key``.

    ``spoc.pager`` is the app's (its key derived from ``SPOC_SECRET_KEY``)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def page(
        self,
        session: Session,
        statement: AnySelect,
        ordering: Ordering,
        *,
        limit: int,
        cursor: str | None = None,
        field: str = "cursor",
    ) -> Page[Any]:
        """One page of ``statement`` in ``ordering``: at most ``limit`` items after (or before)
        ``cursor`` — ``None`` or ``""`` for the first page. The statement's own ``ORDER BY``
        is replaced. Items are what the statement selects: an entity or a value for a select
        of one, a tuple for a select of several.

        Raises :class:`CursorRejected` naming ``field`` for a cursor this list did not make."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        direction, after = FORWARD, None
        if cursor:
            direction, after = self._decode(cursor, ordering, field)
        backward = direction == BACKWARD
        width = len(statement.column_descriptions)
        query = statement.order_by(None)
        if after is not None:
            query = query.where(_beyond(ordering.keys, after, backward))
        query = query.order_by(*(_order(k, backward) for k in ordering.keys))
        labelled = [k.column.label(f"spoc_keyset_{i}") for i, k in enumerate(ordering.keys)]
        rows = list(session.execute(query.add_columns(*labelled).limit(limit + 1)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        if backward:
            if not more:  # back at the start: the first page, full, as a reader expects
                return self.page(session, statement, ordering, limit=limit, field=field)
            rows.reverse()
        items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
        keys = [tuple(row[width:]) for row in rows]
        if not keys:
            return Page([])
        later = more if not backward else True
        earlier = more if backward else after is not None
        return Page(
            items,
            self._encode(ordering, FORWARD, keys[-1]) if later else None,
            self._encode(ordering, BACKWARD, keys[0]) if earlier else None,
        )

    def cursor_after(self, ordering: Ordering, values: Sequence[Any]) -> str:
        """A cursor for the rows after the key ``values`` in ``ordering`` (a link that starts
        a list part-way, or a test)."""
        if len(values) != len(ordering.keys):
            raise ValueError(f"ordering {ordering.name!r} has {len(ordering.keys)} keys")
        return self._encode(ordering, FORWARD, tuple(values))

    # --- the cursor format -----------------------------------------------------------------

    def _tag(self, ordering: Ordering, payload: bytes) -> bytes:
        message = b"spoc keyset cursor\x00" + ordering.signature.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]

    def _encode(self, ordering: Ordering, direction: str, values: tuple[Any, ...]) -> str:
        typed = [_typed(ordering, v) for v in values]
        payload = json.dumps([ordering.name, direction, typed], separators=(",", ":")).encode()
        return f"{VERSION}.{_b64(payload)}.{_b64(self._tag(ordering, payload))}"

    def _decode(self, cursor: str, ordering: Ordering, field: str) -> tuple[str, tuple[Any, ...]]:
        garbled = CursorRejected(field, "is not a cursor of this list (garbled or cut short)")
        parts = cursor.split(".") if len(cursor) <= MAX_CURSOR and cursor.isascii() else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise garbled
        try:
            payload, tag = _unb64(parts[1]), _unb64(parts[2])
        except (binascii.Error, ValueError):
            raise garbled from None
        if not hmac.compare_digest(tag, self._tag(ordering, payload)):
            if _name_of(payload) not in (None, ordering.name):
                raise CursorRejected(field, "belongs to another list")
            raise CursorRejected(
                field, "was altered, or the list changed since: start again from the first page"
            )
        try:  # signed by us, so the shape is ours; checked all the same
            name, direction, typed = json.loads(payload)
            values = tuple(_untyped(t) for t in typed)
        except (ValueError, TypeError):
            raise garbled from None
        if name != ordering.name or direction not in (FORWARD, BACKWARD):
            raise garbled
        if len(values) != len(ordering.keys):
            raise garbled
        return direction, values


def _beyond(keys: tuple[OrderKey, ...], values: tuple[Any, ...], backward: bool) -> Any:
    """The rows after ``values`` in the ordering (before them when ``backward``)."""
    down = [k.descending != backward for k in keys]
    bound = [literal(v, k.column.type) for k, v in zip(keys, values, strict=True)]
    columns = [k.column for k in keys]
    if len(keys) == 1:
        return columns[0] < bound[0] if down[0] else columns[0] > bound[0]
    if all(down) or not any(down):
        row, given = tuple_(*columns), tuple_(*bound)
        return row < given if down[0] else row > given
    # Mixed directions: no row value says it; the first key's range keeps an index usable.
    steps = []
    for i, (column, value) in enumerate(zip(columns, bound, strict=True)):
        ties = [columns[j] == bound[j] for j in range(i)]
        steps.append(and_(*ties, column < value if down[i] else column > value))
    first = columns[0] <= bound[0] if down[0] else columns[0] >= bound[0]
    return and_(first, or_(*steps))


def _order(key: OrderKey, backward: bool) -> Any:
    return key.column.asc() if key.descending == backward else key.column.desc()


def _typed(ordering: Ordering, value: Any) -> list[Any]:
    # bool before int: a bool is an int to Python, not to a database.
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", str(value)]
    if isinstance(value, float):
        return ["f", value]
    if isinstance(value, Decimal):
        return ["m", str(value)]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError(f"ordering {ordering.name!r}: a naive datetime cannot be a key")
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    raise TypeError(f"ordering {ordering.name!r}: {type(value).__name__} cannot be a key")


def _untyped(typed: list[Any]) -> Any:
    kind, value = typed
    try:
        if kind in ("b", "i", "s", "f"):
            return value
        if kind == "m":
            return Decimal(value)
        if kind == "t":
            return datetime.fromisoformat(value)
        if kind == "d":
            return date.fromisoformat(value)
    except (ValueError, InvalidOperation):
        pass
    raise ValueError(f"a key of type {kind!r}")


def _name_of(payload: bytes) -> str | None:
    try:
        found = json.loads(payload)
    except ValueError:
        return None
    return found[0] if isinstance(found, list) and found and isinstance(found[0], str) else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64 for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
