"""Questions a plugin's test asks of the database that no service answers: which migrations
ran, which tables exist, when a request's SLA clocks are due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect, select

from spoc.core.domain.models import SlaClock
from spoc.core.services import Spoc
from spoc.core.storage import migrate


def applied_migrations(spoc: Spoc) -> dict[str, set[str]]:
    """The revisions applied, by history owner (``"core"`` or a plugin with migrations)."""
    return {h.owner: migrate.applied(spoc.db, h) for h in migrate.histories(spoc.host)}


def table_names(spoc: Spoc) -> set[str]:
    """The tables the database holds."""
    with spoc.db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def sla_due(spoc: Spoc, request_id: int) -> dict[str, datetime]:
    """When each of the request's SLA clocks is due, by clock kind (``first_response``,
    ``resolution``, ...)."""
    with spoc.db.reader() as session:
        clocks = session.scalars(select(SlaClock).where(SlaClock.request_id == request_id))
        return {str(c.kind): c.due_at for c in clocks}
