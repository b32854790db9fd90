"""Subjects: who is accountable for what — the SPOC, ordered deputies, and intake links."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from spoc.core.domain.access import masked_subject_ids, specialist_may_see
from spoc.core.domain.directory import spoc_capable_agents
from spoc.core.domain.models import Agent, Request, Subject
from spoc.core.domain.routing import acting_spoc
from spoc.core.kernel.errors import PermissionDenied, ServiceError
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.storage.keyset import Ordering
from spoc.core.web.console.access import guard
from spoc.core.web.console.auth import EVERYONE, STAFF, actor, bp, role_required
from spoc.core.web.console.rows import children_of

PAGE = 25
SUBJECTS = Ordering("console:subjects", Subject.id)
MAX_DEPUTIES = 3


@bp.get("/subjects")
@role_required(*EVERYONE)
def subjects() -> str:
    spoc = spoc_of()
    query = select(Subject)
    kind = request.args.get("kind", "")
    if kind in spoc.host.subject_kinds:
        query = query.where(Subject.kind == kind)
    search = request.args.get("q", "").strip()[:100]
    if search:
        query = query.where(
            or_(Subject.external_ref == search, Subject.name.startswith(search, autoescape=True))
        )
    with spoc.db.reader() as db:
        found = spoc.pager.page(
            db, query, SUBJECTS, limit=PAGE, cursor=request.args.get("after"), field="after"
        )
        rows = found.items
        spocs = {
            a.id: a
            for a in db.scalars(select(Agent).where(Agent.id.in_({s.spoc_agent_id for s in rows})))
        }
        masked = masked_subject_ids(db, spoc.host, actor(), rows)
    return render_template(
        "console/subjects.html",
        rows=rows,
        spocs=spocs,
        masked=masked,
        kinds=list(spoc.host.subject_kinds),
        kind=kind,
        q=search,
        next_after=found.next,
    )


def _subject_page(subject_id: int, intake_url: str | None = None) -> str:
    spoc = spoc_of()
    with spoc.db.reader() as db:
        subject = db.get(Subject, subject_id)
        if subject is None:
            abort(404)
        people = ([("SPOC", subject.spoc)] if subject.spoc else []) + [
            (f"Deputy {d.position}", d.agent) for d in subject.deputies
        ]
        routing = acting_spoc(db, subject, spoc.requests.today(), spoc.settings.desk_team)
        acting = db.get(Agent, routing.agent_id) if routing.agent_id else None
        me = actor()
        listed = select(Request).where(Request.subject_id == subject_id)
        if me.role is Role.SPECIALIST and me.id is not None:
            listed = listed.where(specialist_may_see(me.id))  # only what they can open
        recent = list(
            db.scalars(listed.order_by(Request.created_at.desc(), Request.id.desc()).limit(PAGE))
        )
        agents = spoc_capable_agents(db)
        deputies = [d.agent_id for d in subject.deputies]
        structures = [
            (s, s.items(db, subject_id) if s.items is not None else [])
            for s in children_of(subject.kind)
        ]
    kind = spoc.host.subject_kinds.get(subject.kind)
    return render_template(
        "console/subject.html",
        subject=subject,
        kind_title=kind.title if kind else subject.kind,
        people=people,
        routing=routing,
        acting=acting,
        recent=recent,
        agents=agents,
        deputies=deputies + [None] * (MAX_DEPUTIES - len(deputies)),
        intake_url=intake_url,
        structures=structures,
    )


@bp.get("/subjects/<int:subject_id>")
@role_required(*EVERYONE)
def subject_detail(subject_id: int) -> str | Response:
    if (refused := guard("subject", subject_id=subject_id)) is not None:
        return refused
    return _subject_page(subject_id)


@bp.post("/subjects/<int:subject_id>/people")
@role_required(*STAFF)
def subject_people(subject_id: int) -> Response | tuple[str, int]:
    form = request.form
    spoc_id = form.get("spoc", type=int)
    deputies = [d for d in (form.get(f"deputy{i}", type=int) for i in range(1, 4)) if d]
    try:
        spoc_of().directory.set_subject_people(actor(), subject_id, spoc_id, deputies)
        flash("SPOC and deputies saved.", "success")
    except PermissionDenied as exc:
        # Refused, not merely invalid: say so with a 403 rather than a flash on a redirect.
        page = render_template("portal/error.html", title="Not allowed", message=str(exc))
        return page, 403
    except ServiceError as exc:
        flash(f"Not saved: {exc}", "error")
    return redirect(url_for("console.subject_detail", subject_id=subject_id), code=303)


@bp.post("/subjects/<int:subject_id>/intake-link")
@role_required(*STAFF)
def subject_intake_link(subject_id: int) -> str:
    spoc = spoc_of()
    try:
        token = spoc.links.create_intake_link(subject_id, label=request.form.get("label", "")[:200])
    except LookupError:
        abort(404)
    url = spoc.settings.base_url.rstrip("/") + url_for("portal.intake", token=token)
    # Shown once, in this response only: the database keeps just its digest.
    return _subject_page(subject_id, intake_url=url)
