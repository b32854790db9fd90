"""API operation on the admin audit trail."""

from __future__ import annotations

from flask import Response, request

import spoc.core.web.api.schemas as s
from spoc.core.domain.audit import AUDIT_ORDER, AuditAction, AuditFilter, audit_query
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.api.base import (
    ProblemError,
    operation,
    parse,
    require_agent,
    respond,
)

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
    spoc = spoc_of()
    with spoc.db.reader() as session:
        found = spoc.pager.page(
            session,
            audit_query(where),
            AUDIT_ORDER,
            limit=query.limit,
            cursor=query.cursor,
            field="query.cursor",
        )
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
        for e in found.items
    ]
    return respond(s.AuditPage(items=items, next_cursor=found.next))
