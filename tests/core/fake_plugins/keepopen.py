"""Keeps requests whose summary mentions a medical emergency from closing automatically."""

from __future__ import annotations

from spoc import Request, hookimpl


@hookimpl
def spoc_keep_open(request: Request) -> str | None:
    return "a medical report is closed by a person" if "medical" in request.summary else None
