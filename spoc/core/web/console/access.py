"""Break-glass reasons and downloads on the console.

When a plugin's ``spoc_staff_access`` asks why a reader opens a record they are not responsible
for, the console shows a form; the reason is kept in the signed session for
``BREAK_GLASS_MINUTES`` for that one record and handed to the plugin with every read.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, redirect, render_template, request, session
from werkzeug.wrappers import Response

from spoc.core.domain.access import (
    BREAK_GLASS_WINDOW,
    REASON_MAX,
    REASON_MIN,
    AccessReasonRequired,
    check_staff_access,
    clean_reason,
)
from spoc.core.domain.models import Request
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import EVERYONE, _safe_next, actor, bp, role_required
from spoc.core.web.exports import export_response, find_export
from spoc.core.web.files import attachment_response

BREAK_GLASS_MINUTES = int(BREAK_GLASS_WINDOW.total_seconds() // 60)
SESSION_KEY = "break_glass"


def _target(request_obj: Request | None, subject_id: int | None) -> str:
    return request_target(request_obj.id) if request_obj is not None else f"subject:{subject_id}"


def request_target(request_id: int) -> str:
    """What a break-glass reason is kept for, in the session: this one request."""
    return f"request:{request_id}"


def given_reason(target: str) -> str | None:
    """The break-glass reason the agent gave for ``target`` in the last minutes, if any."""
    entry = session.get(SESSION_KEY, {}).get(target)
    if not entry:
        return None
    if entry.get("until", 0) < spoc_of().clock.now().timestamp():
        return None
    return str(entry.get("reason", "")) or None


def opened_detail(request_id: int) -> RequestDetail | Response:
    """The request's detail as the console opens it, or the break-glass form when the
    request's plugin asks the reader why; 404 for a request the reader may not see."""
    target = request_target(request_id)
    try:
        return spoc_of().requests.detail(
            request_id, actor(), channel="console", reason=given_reason(target)
        )
    except NotFoundError:
        abort(404)
    except AccessReasonRequired as refused:
        return break_glass_form(refused, target)


def guard(
    what: str,
    *,
    request_obj: Request | None = None,
    subject_id: int | None = None,
    next_url: str | None = None,
) -> Response | None:
    """Report the read to plugins; the break-glass form instead when a plugin asks why."""
    target = _target(request_obj, subject_id)
    try:
        check_staff_access(
            spoc_of(),
            actor(),
            what,
            "console",
            request=request_obj,
            subject_id=subject_id,
            reason=given_reason(target),
        )
    except AccessReasonRequired as exc:
        return break_glass_form(exc, target, next_url)
    return None


def break_glass_form(
    refused: AccessReasonRequired, target: str, next_url: str | None = None
) -> Response:
    """The form asking why the agent needs the record (403); once a reason is given they go to
    ``next_url`` (default: this page)."""
    page = render_template(
        "console/break_glass.html",
        message=refused.message,
        target=target,
        next=next_url or request.full_path.rstrip("?"),
        reason_max=REASON_MAX,
    )
    return Response(page, status=403, mimetype="text/html")


@bp.post("/break-glass")
@role_required(*EVERYONE)
def break_glass() -> Response:
    target = request.form.get("target", "")
    kind, _, number = target.partition(":")
    if kind not in ("request", "subject") or not number.isdigit():
        abort(400)
    try:
        reason = clean_reason(request.form.get("reason"))
    except ValidationFailed:
        reason = None
    if reason is None:
        page = render_template(
            "console/break_glass.html",
            message=f"Say why you need this record: at least {REASON_MIN} characters.",
            target=target,
            next=request.form.get("next"),
            reason_max=REASON_MAX,
            error=True,
        )
        return Response(page, status=400, mimetype="text/html")
    until = spoc_of().clock.now() + timedelta(minutes=BREAK_GLASS_MINUTES)
    given = dict(session.get(SESSION_KEY, {}))
    given[target] = {"reason": reason, "until": until.timestamp()}
    session[SESSION_KEY] = given
    return redirect(_safe_next(request.form.get("next"), actor().id or 0), code=303)


@bp.get("/requests/<int:request_id>/exports/<key>")
@role_required(*EVERYONE)
def request_export(request_id: int, key: str) -> Response:
    spoc = spoc_of()
    try:
        found = spoc.requests.get(request_id, actor())
    except NotFoundError:
        abort(404)
    export = find_export(spoc, found, key)
    if export is None:
        abort(404)
    if (refused := guard(f"export:{key}", request_obj=found)) is not None:
        return refused
    return export_response(export)


@bp.get("/requests/<int:request_id>/files/<int:attachment_id>")
@role_required(*EVERYONE)
def request_attachment(request_id: int, attachment_id: int) -> Response:
    """A file of the request, read like the request itself (the same access check and staff
    read report, with the break-glass reason given for it); 404 to whoever may not read it."""
    target = request_target(request_id)
    try:
        line, data = spoc_of().requests.attachment_content(
            request_id, attachment_id, actor(), channel="console", reason=given_reason(target)
        )
    except NotFoundError:
        abort(404)
    except AccessReasonRequired as refused:
        return break_glass_form(refused, target)
    return attachment_response(line, data)
