"""The requester's view of one request, and what they can do there."""

from __future__ import annotations

from datetime import tzinfo

from flask import abort, flash, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Contact, Request, TimelineEvent
from spoc.core.domain.reads.detail import ClockLine
from spoc.core.kernel.clocks import ClockKind
from spoc.core.kernel.errors import ConflictError, NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, ConsolePanel, Status
from spoc.core.platform import hookspecs
from spoc.core.services import spoc_of
from spoc.core.web.exports import exports_for
from spoc.core.web.files import attachment_response, uploads_from


def requester_of(
    request_id: int, contact_id: int | None, cc: int | None = None
) -> tuple[Request, Actor]:
    """The request and who acts on it: its requester, or the CC ``cc`` whose own link it is."""
    spoc = spoc_of()
    with spoc.db.reader() as session:
        found = session.get(Request, request_id)
        if found is None or (contact_id is not None and found.contact_id != contact_id):
            abort(404)
        if cc is not None:
            copied = session.get(Contact, cc)
            if copied is None:
                abort(404)
            return found, Actor.requester(copied.id, copied.name)
        # The name typed when this request was filed, never the one stored for the address:
        # whoever holds the link may have typed someone else's email.
        typed = session.scalar(
            select(TimelineEvent.actor_name).where(
                TimelineEvent.request_id == found.id,
                TimelineEvent.kind == "created",
                TimelineEvent.actor_kind == ActorKind.REQUESTER,
            )
        )
        return found, Actor.requester(found.contact_id, typed or "the requester")


def render_tracking(
    request_id: int,
    *,
    token: str | None = None,
    contact_id: int | None = None,
    just_filed: bool = False,
    cc: int | None = None,
) -> str:
    spoc = spoc_of()
    _, requester = requester_of(request_id, contact_id, cc)
    try:
        detail = spoc.requests.detail(request_id, requester, channel="portal")
    except NotFoundError:
        abort(404)

    def action_url(action: str) -> str:
        if token is not None:
            return url_for("portal.track_action", token=token, action=action)
        return url_for("portal.my_request_action", request_id=request_id, action=action)

    def file_url(attachment_id: int) -> str:
        if token is not None:
            return url_for("portal.track_attachment", token=token, attachment_id=attachment_id)
        return url_for(
            "portal.my_request_attachment", request_id=request_id, attachment_id=attachment_id
        )

    def export_url(key: str) -> str:
        if token is not None:
            return url_for("portal.track_export", token=token, key=key)
        return url_for("portal.my_request_export", request_id=request_id, key=key)

    panels: list[ConsolePanel] = []
    for _, answer in spoc.hooks.each(hookspecs.spoc_portal_panels, request=detail.row, spoc=spoc):
        panels.extend(answer)
    return render_template(
        "portal/track.html",
        req=detail,
        label=lambda status: detail.status_labels[status],
        action_url=action_url,
        export_url=export_url,
        file_url=file_url,
        exports=exports_for(spoc, detail.row, requester=True),
        panels=[
            (p.title, p.body if isinstance(p.body, Markup) else escape(p.body))
            for p in sorted(panels, key=lambda p: (p.order, p.title))
        ],
        just_filed=just_filed,
        is_cc=cc is not None,
        ccs=[] if cc is not None else spoc.requests.relations(request_id, requester).ccs,
        expect=_expected_answer(detail.expected_answer, spoc.settings.tz),
        track_url=(
            spoc.settings.base_url.rstrip("/") + url_for("portal.track", token=token)
            if token and just_filed
            else None
        ),
    )


def download_attachment(
    request_id: int, attachment_id: int, contact_id: int | None = None, cc: int | None = None
) -> Response:
    """A file of the request, for whoever holds its tracking link (or the signed-in contact);
    404 for a file they do not see on the tracking page."""
    _, requester = requester_of(request_id, contact_id, cc)
    try:
        line, data = spoc_of().requests.attachment_content(
            request_id, attachment_id, requester, channel="portal"
        )
    except NotFoundError:
        abort(404)
    return attachment_response(line, data)


def _expected_answer(clock: ClockLine | None, zone: tzinfo) -> str | None:
    """ "Expect a first answer by …" / "Expect a resolution by …"."""
    if clock is None:
        return None
    what = "a first answer" if clock.kind is ClockKind.FIRST_RESPONSE else "a resolution"
    return f"Expect {what} by {clock.due_at.astimezone(zone).strftime('%a %d %b, %H:%M')}"


ACTIONS = {"reply", "cancel", "confirm", "reopen", "rate", "cc", "uncc"}


def requester_action(
    request_id: int, action: str, *, contact_id: int | None = None, cc: int | None = None
) -> None:
    if action not in ACTIONS:
        abort(404)
    spoc = spoc_of()
    _, requester = requester_of(request_id, contact_id, cc)
    form = request.form
    version = form.get("version", type=int)
    requests = spoc.requests
    try:
        if action == "reply":
            requests.post_message(
                request_id,
                requester,
                form.get("body", ""),
                expected_version=version,
                attachments=uploads_from(),
            )
            flash("Your message was sent.", "success")
        elif action == "cc":
            requests.add_cc(request_id, requester, form.get("email", ""), form.get("name", ""))
            flash("Copied: they get the replies and their own link.", "success")
        elif action == "uncc":
            requests.remove_cc(request_id, requester, form.get("contact_id", type=int) or 0)
            flash("No longer copied.", "success")
        elif action == "cancel":
            requests.transition(
                request_id,
                Status.CANCELLED,
                requester,
                expected_version=version,
                reason=form.get("reason", "").strip()[:500] or None,
            )
            flash("Your request is cancelled.", "success")
        elif action == "confirm":
            requests.transition(request_id, Status.CLOSED, requester, expected_version=version)
            flash("Thank you — your request is closed.", "success")
        elif action == "reopen":
            body = form.get("body", "").strip()
            if body:
                requests.post_message(request_id, requester, body, expected_version=version)
            else:
                requests.transition(request_id, Status.OPEN, requester, expected_version=version)
            flash("Your request is open again; your contact has been told.", "success")
        else:
            rating = form.get("rating", type=int)
            if rating is None:
                raise ValidationFailed("choose a rating", {"rating": "choose 1 to 5"})
            requests.give_feedback(request_id, requester, rating, form.get("comment", ""))
            flash("Thank you for your feedback.", "success")
    except ConflictError:
        flash(
            "This request changed while you were reading it. Please check and try again.", "error"
        )
    except ServiceError as exc:
        flash(str(exc)[:1].upper() + str(exc)[1:], "error")
