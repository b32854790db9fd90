"""Column helpers and values the core tables share."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum as SAEnum


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


# Sorts after every real deadline, so queues can order by deadline_at with a plain index.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
