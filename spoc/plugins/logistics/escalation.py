"""What the sweep escalates for the control tower, as the core's watches.

* An exception's request: ``logistics:<cause>``, armed with the exception and due at once,
  brings in the carrier desk (level 1) unless something escalated the request already; for an
  ETA far past the promise, ``logistics:<cause>_authority`` also brings in the account
  manager's authority (level 2) — armed with the exception, or later when :func:`detect`
  finds the slip has grown.
* A claim's request: ``logistics:claim_deadline``, due ``claim_warning_days`` before the
  carrier's notice deadline, brings in the claims team unless something escalated the request
  already; while it stays escalated elsewhere the watch looks again hourly until the deadline.

The sweep fires each watch in the transaction that locks its request: :func:`on_watch_due`
(the plugin's ``spoc_watch_due``) decides the team from the current settings and the request's
level, and the core escalates once per request and cause (trigger ``plugin:logistics:<cause>``,
as before) and settles the watch. A finished request is never escalated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Request, Spoc, Watch, WatchOutcome
from spoc.plugins.logistics.models import Claim, ShipmentException
from spoc.plugins.logistics.settings import NAME, settings_of

CLAIM_DEADLINE = "claim_deadline"
AUTHORITY_SUFFIX = "_authority"
# While a claim's request is escalated elsewhere, how often its watch looks again before the
# deadline (the escalation may be closed meanwhile, and then the claims team must know).
CLAIM_RECHECK = timedelta(hours=1)


def when(instant: datetime) -> str:
    return instant.strftime("%a %d %b %H:%M UTC")


def arm_exception(
    spoc: Spoc, session: Session, request_id: int, cause: str, reason: str, level: int
) -> None:
    """In the transaction that opens the exception's request: its escalations, due now."""
    spoc.watches.arm(
        session, f"{NAME}:{cause}", spoc.clock.now(), request_id=request_id, reason=reason
    )
    if level >= 2:
        arm_authority(spoc, session, request_id, cause, reason)


def arm_authority(spoc: Spoc, session: Session, request_id: int, cause: str, reason: str) -> None:
    """The exception now wants the authority too (arming it again changes nothing once fired)."""
    spoc.watches.arm(
        session,
        f"{NAME}:{cause}{AUTHORITY_SUFFIX}",
        spoc.clock.now(),
        request_id=request_id,
        reason=reason,
    )


def settle_exception(spoc: Spoc, session: Session, request_id: int, cause: str) -> None:
    """Delivery settled the exception: nothing of it is escalated any more."""
    for name in (cause, cause + AUTHORITY_SUFFIX):
        spoc.watches.settle(session, f"{NAME}:{name}", request_id=request_id)


def arm_claim(spoc: Spoc, session: Session, request_id: int, deadline: datetime) -> None:
    """In the intake transaction of a claim with a notice deadline."""
    warning = timedelta(days=settings_of(spoc).claim_warning_days)
    spoc.watches.arm(
        session,
        f"{NAME}:{CLAIM_DEADLINE}",
        deadline - warning,
        request_id=request_id,
        reason=f"the claim must reach the carrier by {when(deadline)}",
    )


def on_watch_due(spoc: Spoc, watch: Watch, session: Session, now: datetime) -> WatchOutcome:
    """The escalation one of our watches stands for, decided now (see the module docstring)."""
    request = session.get(Request, watch.request_id) if watch.request_id is not None else None
    if request is None or request.status.is_final:
        return WatchOutcome()  # nothing to escalate any more
    name = watch.cause.removeprefix(f"{NAME}:")
    if name == CLAIM_DEADLINE:
        return _claim_due(spoc, request, session, now)
    exception = session.scalar(
        select(ShipmentException).where(ShipmentException.request_id == request.id)
    )
    if exception is None or exception.resolved_at is not None:
        return WatchOutcome()
    settings = settings_of(spoc)
    if name == exception.cause + AUTHORITY_SUFFIX:
        if request.escalation_level > 1:
            return WatchOutcome()
        return WatchOutcome(
            escalate=settings.authority_team,
            reason=f"{exception.reason}: more than {settings.eta_slip_authority_hours:g} h late",
        )
    if request.escalation_level > 0:
        return WatchOutcome()  # escalated already, by its SLA or a person: the SPOC knows
    return WatchOutcome(escalate=settings.carrier_desk_team, reason=exception.reason)


def _claim_due(spoc: Spoc, request: Request, session: Session, now: datetime) -> WatchOutcome:
    claim = session.scalar(select(Claim).where(Claim.request_id == request.id))
    if claim is None or claim.deadline_at is None:
        return WatchOutcome()
    settings = settings_of(spoc)
    warn_at = claim.deadline_at - timedelta(days=settings.claim_warning_days)
    if now < warn_at:  # carried over from before the watches, or the warning was shortened
        return WatchOutcome(rearm_at=warn_at)
    if request.escalation_level == 0:
        return WatchOutcome(
            escalate=settings.claims_team,
            reason=f"the claim must reach the carrier by {when(claim.deadline_at)}",
        )
    if now < claim.deadline_at:
        return WatchOutcome(rearm_at=min(claim.deadline_at, now + CLAIM_RECHECK))
    return WatchOutcome()  # past the deadline, and escalated elsewhere: the SPOC knows
