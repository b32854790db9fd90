"""Names shared by the plugin's modules: subject kinds, request types, the system actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from spoc import Actor

NAME = "projects"
PORTFOLIO = "projects.portfolio"
PROJECT = "projects.project"
WORKSTREAM = "projects.workstream"

UPDATE = "projects.status_update"
RISK = "projects.risk"
DECISION = "projects.decision"
CHANGE = "projects.change_request"
QUESTION = "projects.question"
# Opened by the project office itself, never from the portal.
REPORT = "projects.status_report"
CHASE = "projects.update_due"

# Watch causes (``spoc.watches``): each escalates its request once when it falls due.
UPDATE_MISSING = "projects:update_missing"
SPONSOR = "projects:sponsor"
STEERING = "projects:steering"
NEEDED_BY_PASSED = "projects:needed_by_passed"

SYSTEM = Actor.system("project office")

_system_filing: ContextVar[bool] = ContextVar("projects_system_filing", default=False)


@contextmanager
def system_filing() -> Iterator[None]:
    """Mark requests filed inside as the project office's own (report cycle, update chase)."""
    token = _system_filing.set(True)
    try:
        yield
    finally:
        _system_filing.reset(token)


def is_system_filing() -> bool:
    return _system_filing.get()
