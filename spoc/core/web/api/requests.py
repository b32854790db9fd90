"""API operations on requests: list, file, read, change, converse, escalate."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from werkzeug.wrappers import Response as WerkzeugResponse

import spoc.core.web.api.schemas as s
from spoc.core.domain.access import MASKED, REASON_HEADER, check_staff_access
from spoc.core.domain.attachments import FIELD, Upload, safe_filename
from spoc.core.domain.models import NO_DEADLINE, Request, Visibility
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.domain.reads.fields import listed_fields
from spoc.core.domain.reads.queues import BY_NAME, RequestFilter
from spoc.core.kernel.durations import BusinessHours
from spoc.core.kernel.errors import NotFoundError
from spoc.core.kernel.types import Actor, ActorKind
from spoc.core.services import spoc_of
from spoc.core.web.api.base import (
    ProblemError,
    access_reason,
    current_actor,
    expected_version,
    idempotent,
    json_body,
    operation,
    parse,
    require_agent,
    respond,
)
from spoc.core.web.exports import export_response, exports_for, find_export
from spoc.core.web.files import attachment_response, uploads_from
from spoc.core.web.forms import form_spec

R404 = (401, 403, 404, 422)  # 403: a break-glass reason required; 422: too short


def _request_id(reference: str) -> int:
    request_id = spoc_of().requests.parse_reference(reference)
    if request_id is None:
        raise ProblemError(404, "Not found", f"{reference!r} is not a request reference")
    return request_id


def _out(
    found: Request | RequestDetail, *, listing: bool = False, masked: bool = False
) -> s.RequestOut:
    """A request as the API shows it: a stored row (a list, a change's answer) or the detail
    its reader opened. In a list — which is not reported to plugins as a read of each
    record — private types show no fields and other types no ``sensitive`` ones
    (:func:`~spoc.core.domain.reads.fields.listed_fields`). ``masked``: a private request its
    reader is not responsible for, whose summary does not show either (as in the console's
    queues)."""
    fields = dict(found.fields)
    if listing:
        fields = listed_fields(spoc_of().host.request_types.get(found.type_key), found.fields)
    return s.RequestOut(
        reference=spoc_of().requests.reference(found.id),
        type=found.type_key,
        summary=MASKED if masked else found.summary,
        status=found.status,
        priority=found.priority,
        fields=fields,
        subject_id=found.subject_id,
        owner_agent_id=found.owner_agent_id,
        owner_team_id=found.owner_team_id,
        escalation_level=found.escalation_level,
        version=found.version,
        created_at=found.created_at,
        updated_at=found.updated_at,
        deadline_at=None if found.deadline_at == NO_DEADLINE else found.deadline_at,
    )


def _one(found: Request, status: int = 200) -> Response:
    return respond(_out(found), status, found.version)


def _principal(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}"


# --- requests --------------------------------------------------------------------------------


@operation(
    "GET",
    "/requests",
    summary="List requests, next deadline first",
    tag="requests",
    query=s.RequestQuery,
    response=s.RequestPage,
    errors=(400, 401, 403, 422),
)
def list_requests() -> Response:
    actor = require_agent()
    query = parse(s.RequestQuery, request.args.to_dict(), "query")
    filters = RequestFilter(
        statuses=(query.status,) if query.status is not None else (),
        type_key=query.type,
        priority=query.priority,
        subject_id=query.subject_id,
        owner_agent_id=query.owner_agent_id,
    )
    if query.queue not in BY_NAME:
        raise ProblemError(
            422,
            "Validation failed",
            "the query has errors",
            errors=[{"field": "query.queue", "message": f"one of {', '.join(BY_NAME)}"}],
        )
    found = spoc_of().queues.page(
        actor, query.queue, filters, limit=query.limit, cursor=query.cursor, field="query.cursor"
    )
    items = [_out(r, listing=True, masked=r.id in found.masked) for r in found.items]
    return respond(s.RequestPage(items=items, next_cursor=found.next))


def _uploads(type_key: str | None, fields: dict[str, Any]) -> list[Upload]:
    """The files of a multipart call: those in ``attachments``, and those in a part named like
    one of the request type's file fields (``spoc.Files``), whose value becomes their names."""
    uploads = uploads_from()
    request_type = spoc_of().host.request_types.get(type_key) if type_key else None
    if request_type is None:
        return uploads
    for item in form_spec(request_type.fields_model).fields:
        if item.widget != "file":
            continue
        sent = uploads if item.name == FIELD else uploads_from(item.name)
        fields[item.name] = [safe_filename(u.filename) for u in sent]
        if item.name != FIELD:
            uploads = [*uploads, *sent]
    return uploads


@operation(
    "POST",
    "/requests",
    summary="File a request",
    tag="requests",
    body=s.RequestCreate,
    response=s.RequestOut,
    status=201,
    idempotent=True,
    errors=(400, 401, 403, 409, 422),
    multipart=True,
)
def create_request() -> Response:
    actor = require_agent()

    def run() -> Response:
        body = json_body(s.RequestCreate, multipart=True)
        fields = dict(body.fields)
        uploads = _uploads(body.type, fields)
        created = spoc_of().requests.create(
            type_key=body.type,
            fields=fields,
            requester=body.requester.model_dump(),
            subject_id=body.subject_id,
            actor=actor,
            attachments=uploads,
            via="api",
        )
        return _one(created, 201)

    return idempotent(_principal(actor), run)


@operation(
    "GET",
    "/requests/{reference}",
    summary="Get a request",
    tag="requests",
    response=s.RequestOut,
    auth="requester",
    errors=R404,
)
def get_request(reference: str) -> Response:
    detail = _detail(reference, "request")
    return respond(_out(detail), 200, detail.version)


def _detail(reference: str, what: str) -> RequestDetail:
    """The request as the caller (staff token, or this request's tracking token) may see it;
    a staff read is reported to plugins as ``what``, with the break-glass reason sent in
    SPOC-Access-Reason."""
    request_id = _request_id(reference)
    actor = current_actor(allow_requester_for=request_id)
    return spoc_of().requests.detail(
        request_id,
        actor,
        channel="api",
        what=what,
        reason=request.headers.get(REASON_HEADER),
        reason_field=REASON_HEADER,
    )


def _read(reference: str, what: str | None) -> tuple[Actor, Request]:
    """The caller (staff token, or this request's tracking token) and the request they may
    see; a staff read is reported to plugins as ``what`` (``None``: reported later)."""
    request_id = _request_id(reference)
    actor = current_actor(allow_requester_for=request_id)
    found = spoc_of().requests.get(request_id, actor)
    if what is not None:
        _staff_read(actor, what, found)
    return actor, found


def _staff_read(actor: Actor, what: str, found: Request) -> None:
    """Report a staff read to plugins; a break-glass reason travels in SPOC-Access-Reason."""
    check_staff_access(
        spoc_of(),
        actor,
        what,
        "api",
        request=found,
        reason=access_reason(),
    )


@operation(
    "GET",
    "/requests/{reference}/timeline",
    summary="A request's timeline",
    tag="requests",
    response=s.TimelineOut,
    auth="requester",
    errors=R404,
)
def get_timeline(reference: str) -> Response:
    detail = _detail(reference, "timeline")
    items = [
        s.TimelineEventOut(
            seq=e.seq,
            kind=e.kind,
            summary=e.summary,
            at=e.at,
            visibility="internal" if e.visibility is Visibility.INTERNAL else "public",
            actor=e.actor_name,
            message=e.message,
            data=dict(e.data),
            attachments=[
                s.AttachmentOut(
                    id=a.id,
                    filename=a.filename,
                    content_type=a.content_type,
                    size=a.size,
                    href=f"/api/v1/requests/{detail.reference}/attachments/{a.id}",
                )
                for a in e.attachments
            ],
        )
        for e in detail.timeline
    ]
    return respond(s.TimelineOut(items=items))


@operation(
    "GET",
    "/requests/{reference}/attachments/{attachment_id}",
    summary="Download an attachment",
    tag="requests",
    auth="requester",
    errors=R404,
)
def get_attachment(reference: str, attachment_id: str) -> WerkzeugResponse:
    request_id = _request_id(reference)
    actor = current_actor(allow_requester_for=request_id)
    if not attachment_id.isdigit() or len(attachment_id) > 10:
        raise ProblemError(404, "Not found", "no such attachment")
    try:
        line, data = spoc_of().requests.attachment_content(
            request_id,
            int(attachment_id),
            actor,
            channel="api",
            reason=request.headers.get(REASON_HEADER),
            reason_field=REASON_HEADER,
        )
    except NotFoundError:
        raise ProblemError(404, "Not found", "no such attachment on this request") from None
    return attachment_response(line, data)


@operation(
    "GET",
    "/requests/{reference}/exports",
    summary="Documents the request can be downloaded as",
    tag="requests",
    response=s.ExportList,
    auth="requester",
    errors=R404,
)
def list_exports(reference: str) -> Response:
    # Which documents a record has (an appointment, a referral) is itself part of the record.
    actor, found = _read(reference, "exports")
    exports = exports_for(spoc_of(), found, requester=actor.kind is ActorKind.REQUESTER)
    base = f"/api/v1/requests/{reference}/exports"
    items = [
        s.ExportOut(
            key=e.key,
            title=e.title,
            media_type=e.media_type,
            filename=e.filename,
            href=f"{base}/{e.key}",
        )
        for e in exports
    ]
    return respond(s.ExportList(items=items))


@operation(
    "GET",
    "/requests/{reference}/exports/{key}",
    summary="Download a document (iCalendar, FHIR JSON…) in its own media type",
    tag="requests",
    auth="requester",
    errors=(401, 403, 404),
)
def get_export(reference: str, key: str) -> Response:
    actor, found = _read(reference, None)
    export = find_export(spoc_of(), found, key, requester=actor.kind is ActorKind.REQUESTER)
    if export is None:
        raise ProblemError(404, "Not found", f"no export {key!r} for this request")
    _staff_read(actor, f"export:{key}", found)
    return export_response(export)


@operation(
    "POST",
    "/requests/{reference}/transitions",
    summary="Change the status",
    tag="requests",
    body=s.TransitionIn,
    response=s.RequestOut,
    auth="requester",
    errors=(400, 401, 403, 404, 409, 422),
)
def transition(reference: str) -> Response:
    actor, found = _read(reference, "change:transition")  # a change is a read
    request_id = found.id
    body = json_body(s.TransitionIn)
    changed = spoc_of().requests.transition(
        request_id, body.to, actor, expected_version=expected_version(), reason=body.reason
    )
    return _one(changed)


@operation(
    "POST",
    "/requests/{reference}/messages",
    summary="Reply or add an internal note",
    tag="requests",
    body=s.MessageIn,
    response=s.RequestOut,
    status=201,
    auth="requester",
    idempotent=True,
    errors=(400, 401, 403, 404, 409, 422),
    multipart=True,
)
def post_message(reference: str) -> Response:
    request_id = _request_id(reference)
    actor = current_actor(allow_requester_for=request_id)

    def run() -> Response:
        body = json_body(s.MessageIn, multipart=True)
        found = spoc_of().requests.get(request_id, actor)  # a change is a read
        _staff_read(actor, "change:note" if body.internal else "change:reply", found)
        changed = spoc_of().requests.post_message(
            request_id,
            actor,
            body.body,
            internal=body.internal,
            expected_version=expected_version(),
            attachments=uploads_from(),
        )
        return _one(changed, 201)

    return idempotent(_principal(actor), run)


@operation(
    "POST",
    "/requests/{reference}/escalations",
    summary="Escalate to a team",
    tag="requests",
    body=s.EscalationIn,
    response=s.EscalationOut,
    status=201,
    errors=(400, 401, 403, 404, 409, 422),
)
def escalate(reference: str) -> Response:
    request_id = _request_id(reference)
    actor = require_agent()
    found = spoc_of().requests.get(request_id, actor)  # 404 for what the caller may not see
    _staff_read(actor, "change:escalate", found)
    body = json_body(s.EscalationIn)
    hours = body.answer_within_hours
    escalation = spoc_of().escalations.escalate(
        request_id,
        actor,
        team_key=body.team,
        reason=body.reason,
        answer_within=BusinessHours(hours) if hours else None,
        expected_version=expected_version(),
    )
    return respond(_escalation_out(escalation), 201)


@operation(
    "POST",
    "/requests/{reference}/hand-back",
    summary="Hand an escalation back",
    tag="requests",
    body=s.HandBackIn,
    response=s.EscalationOut,
    errors=(400, 401, 403, 404, 409, 422),
)
def hand_back(reference: str) -> Response:
    request_id = _request_id(reference)
    actor = require_agent()
    found = spoc_of().requests.get(request_id, actor)
    _staff_read(actor, "change:hand_back", found)
    body = json_body(s.HandBackIn)
    escalation = spoc_of().escalations.hand_back(
        request_id, actor, note=body.note, expected_version=expected_version()
    )
    return respond(_escalation_out(escalation))


def _escalation_out(escalation: Any) -> s.EscalationOut:
    return s.EscalationOut(
        id=escalation.id,
        level=escalation.level,
        team_id=escalation.to_team_id,
        reason=escalation.reason,
        trigger=escalation.trigger,
        opened_at=escalation.opened_at,
        handed_back_at=escalation.handed_back_at,
    )
