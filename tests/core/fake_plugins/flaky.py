"""Fails the sweep's handling of some requests: always for a summary with "boom", only the
first time for one with "flaky" (the failure is in the plugin's keep-open check)."""

from __future__ import annotations

from spoc import Request, hookimpl

SEEN: set[int] = set()


@hookimpl
def spoc_keep_open(request: Request) -> str | None:
    if "boom" in request.summary:
        raise RuntimeError("the plugin's records are unreachable")
    if "flaky" in request.summary and request.id not in SEEN:
        SEEN.add(request.id)
        raise RuntimeError("a passing hiccup")
    return None
