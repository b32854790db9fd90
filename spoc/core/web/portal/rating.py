"""The one-click rating from the "resolved" mail (see :mod:`spoc.core.domain.reports.rating`):
GET shows the rating ticked and a comment box, and writes nothing; POST (with the page's
CSRF token) records the rating once."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from spoc.core.domain.models import Feedback, Request
from spoc.core.domain.reports.rating import LABEL, RatingLinks
from spoc.core.kernel.errors import ServiceError, ValidationFailed
from spoc.core.kernel.types import Status
from spoc.core.services import spoc_of
from spoc.core.web.portal.tracking import requester_of
from spoc.core.web.portal.views import bp


def _target(token: str) -> tuple[Request, int]:
    spoc = spoc_of()
    found = RatingLinks(spoc.keys.derive(LABEL)).read(token)
    if found is None:
        abort(404)
    request_id, contact_id = found
    target, _ = requester_of(request_id, contact_id)
    return target, contact_id


def _state(request_id: int) -> str:
    """``open`` (may rate now), ``rated`` or ``early`` (not resolved yet)."""
    with spoc_of().db.reader() as session:
        if session.scalar(select(Feedback.id).where(Feedback.request_id == request_id)):
            return "rated"
        status = session.scalar(select(Request.status).where(Request.id == request_id))
    return "open" if status in (Status.RESOLVED, Status.CLOSED) else "early"


@bp.get("/rate/<token>")
def rate(token: str) -> str:
    target, _ = _target(token)
    chosen = request.args.get("rating", type=int)
    return render_template(
        "portal/rate.html",
        reference=spoc_of().requests.reference(target.id),
        state=_state(target.id),
        chosen=chosen if chosen in range(1, 6) else None,
        token=token,
        error=None,
    )


@bp.post("/rate/<token>")
def rate_submit(token: str) -> tuple[str, int] | str:
    target, _ = _target(token)
    _, requester = requester_of(target.id, target.contact_id)
    reference = spoc_of().requests.reference(target.id)
    rating = request.form.get("rating", type=int)
    try:
        if rating is None:
            raise ValidationFailed("choose a rating", {"rating": "choose 1 to 5"})
        spoc_of().requests.give_feedback(
            target.id, requester, rating, request.form.get("comment", "")
        )
    except ValidationFailed as exc:
        page = render_template(
            "portal/rate.html",
            reference=reference,
            state="open",
            chosen=None,
            token=token,
            error=exc.errors.get("rating", str(exc)),
        )
        return page, 422
    except ServiceError:
        # Rated already, or not resolved (any more): say so, change nothing.
        return render_template(
            "portal/rate.html", reference=reference, state=_state(target.id), chosen=None,
            token=token, error=None,
        )  # fmt: skip
    return render_template(
        "portal/rate.html", reference=reference, state="thanks", chosen=rating, token=token,
        error=None,
    )  # fmt: skip
