"""Periodic plugin work in the sweep: opens a daily check-in request once per day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from spoc import Request, Spoc, hookimpl

FAIL: list[bool] = [False]


@hookimpl
def spoc_sweep_tasks(spoc: Spoc, now: datetime, limit: int) -> int:
    if FAIL[0]:
        raise RuntimeError("the carrier feed is down")
    summary = f"Daily check-in {now:%Y-%m-%d}"
    with spoc.db.reader() as session:
        if session.scalar(select(Request.id).where(Request.summary == summary).limit(1)):
            return 0
    spoc.requests.create(
        type_key="generic.question",
        fields={"summary": summary},
        requester={"name": "Robot", "email": "robot@example.com"},
    )
    return 1


FAIL_CHECKS: list[bool] = [False]


@hookimpl
def spoc_escalation_checks(spoc: Spoc, now: datetime, limit: int) -> list[object]:
    if FAIL_CHECKS[0]:
        raise RuntimeError("the check's query broke")
    return []
