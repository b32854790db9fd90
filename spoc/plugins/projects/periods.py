"""Reporting periods: their bounds by cadence, and the one being reported on now."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.plugins.projects.forms import Cadence
from spoc.plugins.projects.models import Period


def period_bounds(cadence: Cadence, anchor: date, on: date) -> tuple[date, date, str]:
    """The period of ``cadence`` that contains ``on``: (first day, last day, label)."""
    if cadence is Cadence.MONTHLY:
        start = on.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end, f"{start:%Y-%m}"
    monday = on - timedelta(days=on.weekday())
    if cadence is Cadence.FORTNIGHTLY:
        base = anchor - timedelta(days=anchor.weekday())
        monday = base + timedelta(days=14 * ((monday - base).days // 14))
        end = monday + timedelta(days=13)
    else:
        end = monday + timedelta(days=6)
    year, week, _ = monday.isocalendar()
    return monday, end, f"{year}-W{week:02d}"


def current_period(session: Session, project_id: int, now: datetime) -> Period | None:
    """The period being reported on: the latest that has closed, else the first open one."""
    closed = session.scalar(
        select(Period)
        .where(Period.project_id == project_id, Period.closes_at <= now)
        .order_by(Period.starts_on.desc())
        .limit(1)
    )
    if closed is not None:
        return closed
    return session.scalar(
        select(Period).where(Period.project_id == project_id).order_by(Period.starts_on).limit(1)
    )
