"""Queues: paginated by keyset, served by indexes, next deadline first.

``deadline_at`` is the earliest pending SLA deadline of a request (kept by the SLA engine;
requests without one sort last). The cursor is the (deadline_at, id) of the last row shown, so
a page costs the same however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import Select, exists, select, tuple_
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from spoc.core.domain.access import MASKED, masked_request_ids
from spoc.core.domain.models import Contact, Escalation, Request, Subject, Team, TeamMember
from spoc.core.kernel.types import Priority, Role, Status
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import EVERYONE, actor, bp, current_agent, role_required
from spoc.core.web.webinput import bounded_int

PAGE = 25
ACTIVE = (Status.NEW, Status.OPEN, Status.WAITING, Status.RESOLVED)


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    roles: tuple[Role, ...]


QUEUES = (
    Queue("mine", "My requests", (Role.ADMIN, Role.AGENT, Role.SPECIALIST)),
    Queue("covering", "Covering for", (Role.ADMIN, Role.AGENT)),
    Queue("escalations", "My teams' escalations", (Role.ADMIN, Role.AGENT, Role.SPECIALIST)),
    Queue("triage", "Desk triage", (Role.ADMIN, Role.AGENT)),
    Queue("all", "All requests", (Role.ADMIN, Role.VIEWER)),
)


def visible_queues(role: Role) -> list[Queue]:
    return [q for q in QUEUES if role in q.roles]


def _base(name: str, agent_id: int) -> Select[Request]:
    query = select(Request)
    if name == "mine":
        return query.where(Request.owner_agent_id == agent_id)
    if name == "covering":
        covered = aliased(Subject)
        return query.join(covered, covered.id == Request.subject_id).where(
            Request.owner_agent_id == agent_id,
            covered.spoc_agent_id.is_not(None),
            covered.spoc_agent_id != agent_id,
        )
    if name == "escalations":
        return query.where(
            exists().where(
                Escalation.request_id == Request.id,
                Escalation.handed_back_at.is_(None),
                Escalation.to_team_id == TeamMember.team_id,
                TeamMember.agent_id == agent_id,
            )
        )
    if name == "triage":
        desk = select(Team.id).where(Team.key == spoc_of().settings.desk_team).scalar_subquery()
        return query.where(Request.owner_agent_id.is_(None), Request.owner_team_id == desk)
    return query


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        deadline, ident = value.split("~")
        return datetime.fromisoformat(deadline), bounded_int(ident, "after")
    except ValueError:
        abort(400)


@bp.get("/")
@role_required(*EVERYONE)
def home() -> Response:
    agent = current_agent()
    assert agent is not None
    return redirect(url_for("console.queue", name=visible_queues(agent.role)[0].name), code=303)


@bp.get("/queues/<name>")
@role_required(*EVERYONE)
def queue(name: str) -> str:
    agent = current_agent()
    assert agent is not None
    queues = visible_queues(agent.role)
    chosen = next((q for q in queues if q.name == name), None)
    if chosen is None:
        abort(404)
    spoc = spoc_of()
    args = request.args
    status = args.get("status", "active")
    query = _base(name, agent.id)
    if status == "active":
        query = query.where(Request.status.in_(ACTIVE))
    elif status in {s.value for s in Status}:
        query = query.where(Request.status == Status(status))
    if (type_key := args.get("type")) and type_key in spoc.host.request_types:
        query = query.where(Request.type_key == type_key)
    if (priority := args.get("priority")) in {p.value for p in Priority}:
        query = query.where(Request.priority == Priority(str(priority)))
    if subject_id := args.get("subject", type=int):
        query = query.where(Request.subject_id == subject_id)
    search = args.get("q", "").strip()[:200]
    if search:
        request_id = spoc.requests.parse_reference(search)
        if request_id is not None:
            query = query.where(Request.id == request_id)
        else:
            # Exact email (indexed); a requester's name would need a full scan.
            query = query.where(
                Request.contact_id
                == select(Contact.id).where(Contact.email == search.lower()).scalar_subquery()
            )
    if after := _cursor(args.get("after")):
        query = query.where(tuple_(Request.deadline_at, Request.id) > tuple_(*after))
    query = query.order_by(Request.deadline_at, Request.id).limit(PAGE + 1)
    with spoc.db.reader() as db:
        rows = list(db.scalars(query))
        contacts = {
            c.id: c
            for c in db.scalars(select(Contact).where(Contact.id.in_({r.contact_id for r in rows})))
        }
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    # Private requests the reader may not open without a reason show masked: no summary or
    # requester (a list shows what a single read would show).
    with spoc.db.reader() as db:
        masked = masked_request_ids(db, spoc.host, actor(), rows)
    next_url = None
    if more:
        last = rows[-1]
        kept: dict[str, Any] = {k: v for k, v in args.items() if k != "after"}
        cursor = f"{last.deadline_at.isoformat()}~{last.id}"
        next_url = url_for("console.queue", name=name, after=cursor, **kept)
    return render_template(
        "console/queue.html",
        queue=chosen,
        queues=queues,
        rows=rows,
        contacts=contacts,
        masked=masked,
        masked_label=MASKED,
        next_url=next_url,
        status=status,
        filters=args,
        request_types=list(spoc.host.request_types),
        now=spoc.clock.now(),
        statuses=[s.value for s in Status],
        priorities=[p.value for p in Priority],
    )
