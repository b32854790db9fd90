"""The console's queue pages: the domain's queues (:mod:`spoc.core.domain.reads.queues`) with
the console's filters, 25 a page, next deadline first. The cursor of the next page travels
in ``after``."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.access import MASKED
from spoc.core.domain.models import Contact
from spoc.core.domain.reads.queues import ACTIVE, RequestFilter
from spoc.core.kernel.types import Priority, Role, Status
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import (
    EVERYONE,
    actor,
    bp,
    current_agent,
    landing_url,
    role_required,
)

PAGE = 25


@bp.get("/")
@role_required(*EVERYONE)
def home() -> Response:
    return redirect(landing_url(actor().role or Role.VIEWER), code=303)


def _filters(args: Any, status: str) -> RequestFilter:
    spoc = spoc_of()
    statuses: tuple[Status, ...] = ()
    if status == "active":
        statuses = ACTIVE
    elif status in {s.value for s in Status}:
        statuses = (Status(status),)
    type_key = args.get("type")
    priority = args.get("priority")
    request_id, email = None, None
    search = args.get("q", "").strip()[:200]
    if search:
        request_id = spoc.requests.parse_reference(search)
        if request_id is None:
            email = search  # an exact address: indexed; a requester's name would need a scan
    return RequestFilter(
        statuses=statuses,
        type_key=type_key if type_key and type_key in spoc.host.request_types else None,
        priority=Priority(priority) if priority in {p.value for p in Priority} else None,
        subject_id=args.get("subject", type=int) or None,
        request_id=request_id,
        contact_email=email,
    )


@bp.get("/queues/<name>")
@role_required(*EVERYONE)
def queue(name: str) -> str:
    agent = current_agent()
    assert agent is not None
    spoc = spoc_of()
    reader = actor()
    queues = spoc.queues.available(reader)
    chosen = next((q for q in queues if q.name == name), None)
    if chosen is None:
        abort(404)
    args = request.args
    status = args.get("status", "active")
    found = spoc.queues.page(
        reader, name, _filters(args, status), limit=PAGE, cursor=args.get("after"), field="after"
    )
    rows = found.items
    with spoc.db.reader() as db:
        contacts = {
            c.id: c
            for c in db.scalars(select(Contact).where(Contact.id.in_({r.contact_id for r in rows})))
        }
    next_url = None
    if found.next:
        kept: dict[str, Any] = {k: v for k, v in args.items() if k != "after"}
        next_url = url_for("console.queue", name=name, after=found.next, **kept)
    return render_template(
        "console/queue.html",
        queue=chosen,
        queues=queues,
        rows=rows,
        contacts=contacts,
        masked=found.masked,
        masked_label=MASKED,
        next_url=next_url,
        status=status,
        filters=args,
        request_types=list(spoc.host.request_types),
        now=spoc.clock.now(),
        statuses=[s.value for s in Status],
        priorities=[p.value for p in Priority],
    )
