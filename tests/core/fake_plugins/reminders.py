"""Watches in the sweep: a plugin that marks a subject "checked" when its watch falls due,
can be told to crash half-way, and answers what ``ANSWER`` holds (``None``: settle as armed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from spoc import Spoc, Subject, Watch, WatchOutcome, hookimpl

FIRED: list[str] = []
CRASH: list[bool] = [False]
ANSWER: list[WatchOutcome | object | None] = [None]


@hookimpl
def spoc_watch_due(
    watch: Watch, session: Session, spoc: Spoc, now: datetime
) -> WatchOutcome | object | None:
    if watch.subject_id is not None:
        subject = session.get(Subject, watch.subject_id)
        assert subject is not None
        subject.name += " (checked)"
        session.flush()  # the write reaches the database before the crash below
    if CRASH[0]:
        raise RuntimeError("the reminder service is down")
    FIRED.append(watch.cause)
    return ANSWER[0]
