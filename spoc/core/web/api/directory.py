"""API operations on people and structure: contacts, subjects, request types, teams, agents."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from sqlalchemy import select

import spoc.core.web.api.schemas as s
from spoc.core.domain.access import (
    MASKED,
    check_staff_access,
    masked_contact_ids,
    masked_subject_ids,
)
from spoc.core.domain.imports import SubjectDraft
from spoc.core.domain.models import (
    Agent,
    Contact,
    Subject,
    Team,
)
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Actor, Role
from spoc.core.services import spoc_of
from spoc.core.storage.keyset import Ordering
from spoc.core.web.api.base import (
    ProblemError,
    access_reason,
    json_body,
    operation,
    parse,
    require_agent,
    respond,
)

# --- people and structure ----------------------------------------------------------------------


def _page() -> s.PageQuery:
    page: s.PageQuery = parse(s.PageQuery, request.args.to_dict(), "query")
    return page


BY_ID = {
    model: Ordering(f"api:{model.__tablename__}", model.id) for model in (Contact, Subject, Agent)
}
"""The directory's lists, oldest first: each served by its primary key."""


def _by_id(session: Any, model: Any, page: s.PageQuery) -> tuple[list[Any], str | None]:
    """One keyset page of ``model`` by id, and the cursor of the next page (None at the end)."""
    found = spoc_of().pager.page(
        session,
        select(model),
        BY_ID[model],
        limit=page.limit,
        cursor=page.cursor,
        field="query.cursor",
    )
    return found.items, found.next


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
    "POST",
    "/subjects",
    summary="Create or update subjects in a batch",
    tag="directory",
    body=s.SubjectBatch,
    query=s.SubjectBatchQuery,
    response=s.SubjectBatchOut,
    errors=(400, 401, 403, 422),
)
def import_subjects() -> Response:
    """Admins only. Each item is found by (kind, external_ref): updated when it exists, created
    otherwise, so sending the same batch again changes nothing more. Every item is checked
    before any is written; a 422 lists each error as ``body.<index>.<field>``."""
    actor = require_agent()
    query: s.SubjectBatchQuery = parse(s.SubjectBatchQuery, request.args.to_dict(), "query")
    batch: s.SubjectBatch = json_body(s.SubjectBatch)
    drafts = [
        (
            item.kind,
            SubjectDraft(
                name=item.name,
                external_ref=item.external_ref,
                spoc=item.spoc,
                deputies=item.deputies,
                attributes=item.attributes,
                details=item.details,
            ),
        )
        for item in batch.root
    ]
    try:
        reports = spoc_of().onboarding.import_drafts(actor, drafts, dry_run=query.dry_run)
    except ValidationFailed as exc:
        raise ProblemError(
            422,
            "Validation failed",
            str(exc),
            errors=[{"field": f"body.{k}", "message": v} for k, v in exc.errors.items()],
        ) from None
    errors = sorted((e.line, e.field, e.message) for r in reports.values() for e in r.errors)
    if errors:
        raise ProblemError(
            422,
            "Validation failed",
            f"{len(errors)} errors; nothing was written",
            errors=[
                {"field": f"body.{line - 1}.{name}", "message": message}
                for line, name, message in errors
            ],
        )
    return respond(
        s.SubjectBatchOut(
            dry_run=query.dry_run,
            created=sum(r.created for r in reports.values()),
            updated=sum(r.updated for r in reports.values()),
        )
    )


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
        reason=access_reason(),
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
