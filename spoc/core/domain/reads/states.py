"""The state of requests, for plugins: a narrow read instead of joining the core's tables.

A plugin keeps its own rows about requests (a risk, a chase, a shipment exception) and asks
about the requests themselves through these three calls, so the core may change how it stores
requests without breaking plugins:

* :func:`request_states` — the state of the requests a plugin holds ids of;
* :func:`open_requests_for` — a subject's requests that are not closed or cancelled;
* :func:`request_matches` — a condition on a plugin's own query ("whose request is still
  unresolved"), so a filtered, ordered, limited list stays one statement.

Each is one indexed, set-based query (by primary key, or by ``ix_requests_subject``); none
runs a query per row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import Request
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Priority, Status

BATCH = 500  # ids per IN (...): well inside every database's limit on bound parameters
MAX_LIMIT = 1000
NOT_FINAL = frozenset(Status) - Status.final()  # resolved counts: it may reopen


@dataclass(frozen=True)
class RequestState:
    """Where a request stands: what a plugin may know of it without reading core tables.

    ``summary`` never holds a ``sensitive`` field (a private type's summary is its title)."""

    id: int
    type_key: str
    summary: str
    status: Status
    priority: Priority
    escalation_level: int
    subject_id: int | None
    owner_agent_id: int | None
    owner_team_id: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_final(self) -> bool:
        """Closed or cancelled: nothing more happens to it."""
        return self.status.is_final

    @property
    def is_unresolved(self) -> bool:
        """New, open or waiting: someone still has to resolve it."""
        return self.status.is_unresolved

    @property
    def is_escalated(self) -> bool:
        return self.escalation_level > 0


_COLUMNS = (
    Request.id,
    Request.type_key,
    Request.summary,
    Request.status,
    Request.priority,
    Request.escalation_level,
    Request.subject_id,
    Request.owner_agent_id,
    Request.owner_team_id,
    Request.created_at,
    Request.updated_at,
)


def _state(row: Any) -> RequestState:
    return RequestState(*row)


def request_states(session: Session, ids: Iterable[int]) -> dict[int, RequestState]:
    """The state of each request in ``ids``, by id; an id that names no request is left out.

    One query by primary key (per 500 ids), in the caller's session: inside a hook's
    transaction it sees that transaction's writes."""
    wanted = sorted(set(ids))
    found: dict[int, RequestState] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        for row in session.execute(select(*_COLUMNS).where(Request.id.in_(chunk))):
            found[row[0]] = _state(row)
    return found


def open_requests_for(
    session: Session,
    subject_ids: int | Iterable[int],
    *,
    type_key: str | Collection[str] | None = None,
    escalated: bool | None = None,
    status: Status | Collection[Status] | None = None,
    limit: int = 100,
) -> list[RequestState]:
    """Requests about these subjects that are not closed or cancelled, the most recently
    changed first (at most ``limit``, up to 1000).

    ``type_key`` keeps those of one type (or of several); ``escalated`` those escalated
    (``True``) or not (``False``); ``status`` narrows the statuses that count as open
    (``Status.unresolved()``: not resolved either). Served by the index on the subject."""
    if not 0 < limit <= MAX_LIMIT:
        raise ValidationFailed("invalid limit", {"limit": f"between 1 and {MAX_LIMIT}"})
    subjects = [subject_ids] if isinstance(subject_ids, int) else sorted(set(subject_ids))
    if not subjects:
        return []
    query = select(*_COLUMNS).where(
        Request.subject_id.in_(subjects),
        *_conditions(NOT_FINAL if status is None else status, escalated, type_key),
    )
    query = query.order_by(Request.updated_at.desc(), Request.id.desc()).limit(limit)
    return [_state(row) for row in session.execute(query)]


def request_matches(
    request_id: ColumnElement[int] | Any,
    *,
    status: Status | Collection[Status] | None = None,
    escalated: bool | None = None,
    type_key: str | Collection[str] | None = None,
) -> ColumnElement[bool]:
    """A condition for a plugin's own query: the request whose id is in the column
    ``request_id`` (``Risk.request_id``) has one of these statuses, is (or is not)
    escalated, is of this type. Negate it with ``~``.

    ``select(Risk).where(Risk.project_id == p, request_matches(Risk.request_id,
    status=Status.unresolved()))`` stays one statement, ordered and limited as the plugin
    likes; the database checks each row by the request's primary key, as a join would."""
    return exists().where(Request.id == request_id, *_conditions(status, escalated, type_key))


def _conditions(
    status: Status | Collection[Status] | None,
    escalated: bool | None,
    type_key: str | Collection[str] | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        chosen = [status] if isinstance(status, str) else list(status)
        conditions.append(Request.status.in_(sorted({Status(s) for s in chosen})))
    if escalated is not None:
        level = Request.escalation_level
        conditions.append(level > 0 if escalated else level == 0)
    if type_key is not None:
        keys = [type_key] if isinstance(type_key, str) else sorted(type_key)
        conditions.append(Request.type_key.in_(keys))
    return conditions
