"""The console's actions on how a request relates: merge, links, CCs, watching."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from spoc.core.kernel.errors import NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Actor, Role
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import actor, bp, role_required

RELATE = {"merge", "link", "cc", "uncc", "watch", "unwatch"}


def _other(text: str, field: str) -> int:
    """The request a typed reference names, visible to the agent; an error naming ``field``."""
    spoc = spoc_of()
    try:
        return spoc.requests.find_by_reference(text.strip(), actor()).id
    except NotFoundError:
        raise ValidationFailed("unknown request", {field: f"no request {text.strip()!r}"}) from None


@bp.post("/requests/<int:request_id>/relate/<action>")
@role_required(Role.ADMIN, Role.AGENT, Role.SPECIALIST)
def request_relate(request_id: int, action: str) -> Response:
    if action not in RELATE:
        abort(404)
    spoc = spoc_of()
    me: Actor = actor()
    form = request.form
    requests = spoc.requests
    target = request_id
    try:
        if action == "merge":
            survivor = _other(form.get("into", ""), "into")
            requests.merge(request_id, survivor, me, reason=form.get("reason") or None)
            flash(f"Merged into {requests.reference(survivor)}.", "success")
            target = survivor
        elif action == "link":
            other = _other(form.get("to", ""), "to")
            requests.link(request_id, other, form.get("kind", ""), me)
            flash(f"Linked to {requests.reference(other)}.", "success")
        elif action == "cc":
            requests.add_cc(request_id, me, form.get("email", ""), form.get("name", ""))
            flash("Copied: they get the public replies and their own link.", "success")
        elif action == "uncc":
            requests.remove_cc(request_id, me, form.get("contact_id", type=int) or 0)
            flash("No longer copied.", "success")
        else:
            requests.watch(request_id, me, watching=action == "watch")
            flash("Watching." if action == "watch" else "No longer watching.", "success")
    except NotFoundError:
        abort(404)
    except ServiceError as exc:
        flash(f"Not changed: {exc}", "error")
    return redirect(url_for("console.request_detail", request_id=target), code=303)
