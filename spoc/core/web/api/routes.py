"""API operations over the service layer: no rule is written twice."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from flask import Response, request
from sqlalchemy import select, tuple_

import spoc.core.web.api.schemas as s
from spoc.core.domain.access import (
    MASKED,
    REASON_HEADER,
    check_staff_access,
    clean_reason,
    masked_contact_ids,
    masked_subject_ids,
)
from spoc.core.domain.audit import AuditAction, AuditFilter, audit_entries
from spoc.core.domain.models import (
    NO_DEADLINE,
    Agent,
    Contact,
    Request,
    Subject,
    Team,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.requests import sensitive_fields
from spoc.core.kernel.durations import BusinessHours
from spoc.core.kernel.types import Actor, ActorKind, Role
from spoc.core.services import spoc_of
from spoc.core.web.api.base import (
    ProblemError,
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
from spoc.core.web.webinput import FieldRejected, bounded_int

R404 = (401, 403, 404, 422)  # 403: a break-glass reason required; 422: too short


def _request_id(reference: str) -> int:
    request_id = spoc_of().requests.parse_reference(reference)
    if request_id is None:
        raise ProblemError(404, "Not found", f"{reference!r} is not a request reference")
    return request_id


def _out(found: Request, *, listing: bool = False) -> s.RequestOut:
    """A request as the API shows it. In a list — which is not reported to plugins as a read
    of each record — private types show no fields and other types no ``sensitive`` ones;
    ``GET /requests/{reference}`` shows them, after ``spoc_staff_access``."""
    fields = found.fields
    if listing:
        request_type = spoc_of().host.request_types.get(found.type_key)
        if request_type is None or request_type.private:
            fields = {}
        else:
            hidden = sensitive_fields(request_type.fields_model)
            fields = {k: v for k, v in found.fields.items() if k not in hidden}
    return s.RequestOut(
        reference=spoc_of().requests.reference(found.id),
        type=found.type_key,
        summary=found.summary,
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
    errors=(400, 401, 422),
)
def list_requests() -> Response:
    actor = require_agent()
    query = parse(s.RequestQuery, request.args.to_dict(), "query")
    statement = select(Request)
    if actor.role is Role.SPECIALIST:
        raise ProblemError(403, "Forbidden", "specialists list their requests in the console")
    for column, value in (
        (Request.status, query.status),
        (Request.type_key, query.type),
        (Request.priority, query.priority),
        (Request.subject_id, query.subject_id),
        (Request.owner_agent_id, query.owner_agent_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.cursor:
        try:
            stamp, ident = base64.urlsafe_b64decode(query.cursor.encode()).decode().split("~")
            after = (datetime.fromisoformat(stamp), bounded_int(ident, "cursor"))
        except (ValueError, UnicodeDecodeError, FieldRejected):
            raise ProblemError(400, "Bad request", "invalid cursor") from None
        statement = statement.where(tuple_(Request.deadline_at, Request.id) > tuple_(*after))
    statement = statement.order_by(Request.deadline_at, Request.id).limit(query.limit + 1)
    with spoc_of().db.reader() as session:
        rows = list(session.scalars(statement))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = None
    if more:
        last = rows[-1]
        raw = f"{last.deadline_at.isoformat()}~{last.id}".encode()
        cursor = base64.urlsafe_b64encode(raw).decode()
    items = [_out(r, listing=True) for r in rows]
    return respond(s.RequestPage(items=items, next_cursor=cursor))


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
)
def create_request() -> Response:
    actor = require_agent()

    def run() -> Response:
        body = json_body(s.RequestCreate)
        created = spoc_of().requests.create(
            type_key=body.type,
            fields=body.fields,
            requester=body.requester.model_dump(),
            subject_id=body.subject_id,
            actor=actor,
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
    _, found = _read(reference, "request")
    return _one(found)


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
        reason=_access_reason(),
    )


def _access_reason() -> str | None:
    """The break-glass reason in ``SPOC-Access-Reason``: the same rule as the console's form
    (trimmed, at least 10 characters); too short is a 422 naming the header."""
    return clean_reason(request.headers.get(REASON_HEADER), field=REASON_HEADER)


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
    actor, found = _read(reference, "timeline")
    events = spoc_of().requests.timeline(found.id, actor)
    items = [
        s.TimelineEventOut(
            seq=e.seq,
            kind=e.kind,
            summary=e.summary,
            at=e.at,
            visibility="internal" if e.visibility is Visibility.INTERNAL else "public",
            actor=_actor_shown(actor, e),
            message=e.message.body if e.message else None,
            data=dict(e.data),
        )
        for e in events
    ]
    return respond(s.TimelineOut(items=items))


def _actor_shown(reader: Actor, event: TimelineEvent) -> str:
    """A requester reads their own entries as "you": the name stored for an email address is
    not theirs to learn (they may merely have typed someone else's address)."""
    if reader.kind is ActorKind.REQUESTER and event.actor_kind is ActorKind.REQUESTER:
        return "you"
    return event.actor_name


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
)
def post_message(reference: str) -> Response:
    request_id = _request_id(reference)
    actor = current_actor(allow_requester_for=request_id)

    def run() -> Response:
        body = json_body(s.MessageIn)
        found = spoc_of().requests.get(request_id, actor)  # a change is a read
        _staff_read(actor, "change:note" if body.internal else "change:reply", found)
        changed = spoc_of().requests.post_message(
            request_id,
            actor,
            body.body,
            internal=body.internal,
            expected_version=expected_version(),
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


# --- people and structure ----------------------------------------------------------------------


def _page() -> s.PageQuery:
    page: s.PageQuery = parse(s.PageQuery, request.args.to_dict(), "query")
    return page


def _by_id(session: Any, model: Any, page: s.PageQuery) -> tuple[list[Any], int | None]:
    """One keyset page of ``model`` by id, and the cursor of the next page (None at the end)."""
    statement = select(model).where(model.id > (page.cursor or 0)).order_by(model.id)
    rows = list(session.scalars(statement.limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return rows, rows[-1].id if more else None


@operation(
    "GET",
    "/contacts",
    summary="List contacts",
    tag="directory",
    query=s.PageQuery,
    response=s.ContactPage,
    errors=(401, 403, 422),
)
def list_contacts() -> Response:
    actor = _staff_reader()
    page = _page()
    with spoc_of().db.reader() as session:
        rows, cursor = _by_id(session, Contact, page)
        masked = masked_contact_ids(session, spoc_of().host, actor, {c.id for c in rows})
    items = [_contact_out(c, masked=c.id in masked) for c in rows]
    return respond(s.ContactPage(items=items, next_cursor=cursor))


@operation(
    "GET",
    "/contacts/{contact_id}",
    summary="Get a contact",
    tag="directory",
    response=s.ContactOut,
    errors=(401, 403, 404),
)
def get_contact(contact_id: str) -> Response:
    actor = _staff_reader()
    with spoc_of().db.reader() as session:
        contact = session.get(Contact, _int(contact_id))
        if contact is not None and masked_contact_ids(session, spoc_of().host, actor, {contact.id}):
            contact = None  # not shown: the same answer as for no such contact
    if contact is None:
        raise ProblemError(404, "Not found", "no such contact")
    return respond(_contact_out(contact))


def _contact_out(contact: Contact, *, masked: bool = False) -> s.ContactOut:
    """``masked``: a contact who filed a private request its reader may not open — neither
    name nor email shows in the list, and the single read answers 404."""
    if masked:
        return s.ContactOut(id=contact.id, name=MASKED, email=None, language=contact.language)
    return s.ContactOut(
        id=contact.id, name=contact.name, email=contact.email, language=contact.language
    )


def _subject_out(subject: Subject, *, masked: bool = False) -> s.SubjectOut:
    """``masked``: a private subject in a list its reader is not responsible for — its SPOC
    shows (whom to ask), its name and reference do not; ``GET /subjects/{id}`` with a reason
    shows them."""
    return s.SubjectOut(
        id=subject.id,
        kind=subject.kind,
        name=MASKED if masked else subject.name,
        external_ref=None if masked else subject.external_ref,
        spoc=s.PersonOut(id=subject.spoc.id, name=subject.spoc.name) if subject.spoc else None,
        deputies=[s.PersonOut(id=d.agent.id, name=d.agent.name) for d in subject.deputies],
    )


@operation(
    "GET",
    "/subjects",
    summary="List subjects with their SPOC and deputies",
    tag="directory",
    query=s.PageQuery,
    response=s.SubjectPage,
    errors=(401, 403, 422),
)
def list_subjects() -> Response:
    actor = require_agent()
    page = _page()
    with spoc_of().db.reader() as session:
        rows, cursor = _by_id(session, Subject, page)
        masked = masked_subject_ids(session, spoc_of().host, actor, rows)
        items = [_subject_out(x, masked=x.id in masked) for x in rows]
    return respond(s.SubjectPage(items=items, next_cursor=cursor))


@operation(
    "GET",
    "/subjects/{subject_id}",
    summary="Get a subject",
    tag="directory",
    response=s.SubjectOut,
    errors=(401, 403, 404),
)
def get_subject(subject_id: str) -> Response:
    actor = require_agent()
    with spoc_of().db.reader() as session:
        subject = session.get(Subject, _int(subject_id))
        if subject is None:
            raise ProblemError(404, "Not found", "no such subject")
        out = _subject_out(subject)
    check_staff_access(
        spoc_of(),
        actor,
        "subject",
        "api",
        subject_id=subject.id,
        reason=_access_reason(),
    )
    return respond(out)


def _type_out(t: Any) -> s.RequestTypeOut:
    return s.RequestTypeOut(
        key=t.key,
        title=t.title,
        description=t.description,
        group=t.group,
        subject_kinds=list(t.subject_kinds),
        fields_schema=t.fields_model.model_json_schema(),
    )


@operation(
    "GET",
    "/request-types",
    summary="Request types with their JSON Schema",
    tag="catalogue",
    response=s.RequestTypeList,
    auth="none",
)
def list_request_types() -> Response:
    return respond(s.RequestTypeList(items=[_type_out(t) for t in spoc_of().host.request_types]))


@operation(
    "GET",
    "/request-types/{key}",
    summary="One request type",
    tag="catalogue",
    response=s.RequestTypeOut,
    auth="none",
    errors=(404,),
)
def get_request_type(key: str) -> Response:
    found = spoc_of().host.request_types.get(key)
    if found is None:
        raise ProblemError(404, "Not found", f"no request type {key!r}")
    return respond(_type_out(found))


@operation(
    "GET",
    "/teams",
    summary="Teams and their members",
    tag="directory",
    response=s.TeamList,
    errors=(401,),
)
def list_teams() -> Response:
    require_agent()
    with spoc_of().db.reader() as session:
        teams = list(session.scalars(select(Team).order_by(Team.key).limit(500)))
        items = [
            s.TeamOut(id=t.id, key=t.key, name=t.name, member_ids=[m.id for m in t.members])
            for t in teams
        ]
    return respond(s.TeamList(items=items))


@operation(
    "GET",
    "/agents",
    summary="Staff (read only)",
    tag="directory",
    query=s.PageQuery,
    response=s.AgentPage,
    errors=(401, 422),
)
def list_agents() -> Response:
    require_agent()
    page = _page()
    with spoc_of().db.reader() as session:
        rows, cursor = _by_id(session, Agent, page)
    items = [
        s.AgentOut(id=a.id, name=a.name, email=a.email, role=a.role.value, active=a.active)
        for a in rows
    ]
    return respond(s.AgentPage(items=items, next_cursor=cursor))


def _staff_reader() -> Actor:
    actor = require_agent()
    if actor.role not in (Role.ADMIN, Role.AGENT):
        raise ProblemError(403, "Forbidden", "contacts are for the SPOCs and admins")
    return actor


def _int(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ProblemError(404, "Not found", "no such record")
    return int(text)


# --- admin audit trail -------------------------------------------------------------------


@operation(
    "GET",
    "/audit",
    summary="The admin audit trail, newest first (admins only)",
    tag="directory",
    query=s.AuditQuery,
    response=s.AuditPage,
    errors=(401, 403, 422),
)
def list_audit() -> Response:
    actor = require_agent()
    if actor.role is not Role.ADMIN:
        raise ProblemError(403, "Forbidden", "the audit trail is for admins")
    query: s.AuditQuery = parse(s.AuditQuery, request.args.to_dict(), "query")
    if query.action is not None and query.action not in AuditAction.ALL:
        raise ProblemError(
            422,
            "Validation failed",
            "the query has errors",
            errors=[{"field": "query.action", "message": "unknown action"}],
        )
    for name, value in (("since", query.since), ("until", query.until)):
        if value is not None and value.tzinfo is None:
            raise ProblemError(
                422,
                "Validation failed",
                "the query has errors",
                errors=[{"field": f"query.{name}", "message": "give a time zone offset"}],
            )
    where = AuditFilter(
        action=query.action,
        actor_id=query.actor_id,
        target_kind=query.target_kind,
        target_id=query.target_id,
        since=query.since,
        until=query.until,
    )
    with spoc_of().db.reader() as session:
        rows = list(audit_entries(session, where, before_id=query.cursor, limit=query.limit + 1))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [
        s.AuditEntryOut(
            id=e.id,
            at=e.at,
            actor_kind=e.actor_kind.value,
            actor_id=e.actor_id,
            actor_name=e.actor_name,
            action=e.action,
            target_kind=e.target_kind,
            target_id=e.target_id,
            summary=e.summary,
            before=dict(e.before),
            after=dict(e.after),
        )
        for e in rows
    ]
    return respond(s.AuditPage(items=items, next_cursor=rows[-1].id if more else None))
