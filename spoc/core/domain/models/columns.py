"""Column helpers and values the core tables share."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Dialect, String, TypeDecorator
from sqlalchemy import Enum as SAEnum

E = TypeVar("E", bound=enum.StrEnum)


def enum_column(kind: type[enum.Enum], name: str) -> SAEnum:
    # Stored as short strings with a CHECK constraint: portable, readable in SQL, and
    # extendable by a migration without native enum ALTER TYPE dances on PostgreSQL.
    return SAEnum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class EnumText(TypeDecorator[E], Generic[E]):
    """A string column read back as its enum: the stored values stay plain text, so a column
    that held string literals becomes typed without a migration (no CHECK constraint added)."""

    impl = String
    cache_ok = True

    def __init__(self, kind: type[E], length: int) -> None:
        super().__init__(length)
        self.kind = kind

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.kind(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.kind(value)


# Sorts after every real deadline, so queues can order by deadline_at with a plain index.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
