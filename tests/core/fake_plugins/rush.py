"""Chooses a minutes SLA policy for requests whose summary starts with RUSH."""

from __future__ import annotations

from datetime import datetime

from spoc import BusinessHours, Priority, Request, SlaPolicy, hookimpl

SEEN: list[datetime] = []
MINUTES = SlaPolicy(
    first_response={p: BusinessHours(minutes=5) for p in Priority},
    resolution={p: BusinessHours(minutes=30) for p in Priority},
    calendar="always_open",
)


@hookimpl
def spoc_sla_policy(request: Request, policy: SlaPolicy, at: datetime) -> SlaPolicy | None:
    SEEN.append(at)
    return MINUTES if request.summary.startswith("RUSH") else None
