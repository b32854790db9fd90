"""A plugin that breaks hook contracts at run time: a wrong answer type, a failing task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spoc import RequestType, Spoc, hookimpl

FAIL_TASK = [True]


@hookimpl
def spoc_triage_request(request_type: RequestType, fields: Any) -> object:
    summary = getattr(fields, "summary", "")
    return "escalate please" if "WRONG" in summary else None


@hookimpl
def spoc_sweep_tasks(spoc: Spoc, now: datetime, limit: int) -> object:
    if FAIL_TASK[0]:
        raise RuntimeError("the feed is down")
    return "one"  # not an int
