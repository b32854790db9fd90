"""The log of days whose roll-ups no longer match their facts (``report_dirty_days``).

Writes only ever append to it, so concurrent writers never wait on each other; the worker
takes away the rows it has acted on (``cube.roll_up``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from spoc.core.domain.models import ReportDirtyDay
from spoc.core.storage.db import Database

EVERY_DAY = (
    "SELECT created_day FROM report_request_facts "
    "UNION SELECT resolved_day FROM report_request_facts WHERE resolved_day IS NOT NULL "
    "UNION SELECT rated_day FROM report_request_facts WHERE rated_day IS NOT NULL "
    "UNION SELECT opened_day FROM report_escalation_facts"
)
"""Every day that has facts (the migration that made the roll-ups logs them the same way)."""


def mark_dirty(session: Session, days: Iterable[date | None]) -> None:
    """Log ``days`` as out of date, in the transaction that changed their facts."""
    wanted = sorted({d for d in days if d is not None})
    if wanted:
        session.execute(insert(ReportDirtyDay), [{"day": d} for d in wanted])


def mark_all_dirty(db: Database) -> None:
    """Log every day that has facts as out of date (after a rebuild or a bulk load)."""
    with db.transaction() as session:
        # A constant statement over the schema's own tables.
        session.execute(text(f"INSERT INTO report_dirty_days (day) {EVERY_DAY}"))
