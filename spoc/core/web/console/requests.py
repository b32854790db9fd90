"""The console's request page and every action an agent takes on it."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from spoc.core.domain.access import AccessReasonRequired
from spoc.core.domain.directory import spoc_capable_agents
from spoc.core.domain.knowledge.templates import TemplateRefused
from spoc.core.domain.models import Feedback, Request, Subject, Team, Visibility
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.kernel.durations import BusinessHours
from spoc.core.kernel.errors import ConflictError, NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import ConsolePanel, KnowledgeArticle, Priority, Role, Status
from spoc.core.platform import hookspecs
from spoc.core.services import Spoc, spoc_of
from spoc.core.web.console.access import (
    guard,
    opened_detail,
)
from spoc.core.web.console.assist import drafted_reply
from spoc.core.web.console.auth import EVERYONE, actor, bp, role_required
from spoc.core.web.exports import exports_for
from spoc.core.web.files import uploads_from
from spoc.core.web.forms import form_spec
from spoc.core.web.webinput import bounded_int

MAX_ANSWER_HOURS = 720  # as the API allows (EscalateIn)
MAX_ARTICLES = 10


def _load(request_id: int) -> Request:
    try:
        return spoc_of().requests.get(request_id, actor())
    except NotFoundError:
        abort(404)


def _panels(found: Request) -> list[tuple[str, Markup]]:
    panels: list[ConsolePanel] = []
    spoc = spoc_of()
    for _, answer in spoc.hooks.each(hookspecs.spoc_console_panels, request=found, spoc=spoc):
        panels.extend(answer)
    ordered = sorted(panels, key=lambda p: (p.order, p.title))
    return [(p.title, p.body if isinstance(p.body, Markup) else escape(p.body)) for p in ordered]


@bp.get("/requests/<int:request_id>")
@role_required(*EVERYONE)
def request_detail(request_id: int) -> str | Response:
    spoc = spoc_of()
    detail = opened_detail(request_id)
    if isinstance(detail, Response):
        return detail
    request_type = spoc.host.request_types.get(detail.type_key)
    field_labels = {}
    if request_type is not None:
        field_labels = {f.name: f.label for f in form_spec(request_type.fields_model).fields}
    replies = spoc.saved_replies.for_agent(actor()) if detail.may.note else []
    inserted, saved_error = _inserted_reply(detail)
    draft = drafted_reply(detail, request.args.get("draft", "")) if inserted is None else None
    with spoc.db.reader() as db:
        # What the action forms offer: teams to escalate to, agents to reassign to.
        teams = list(db.scalars(select(Team).order_by(Team.name))) if detail.may.escalate else []
        assignable = spoc_capable_agents(db) if detail.may.manage else []
        # The requester's rating and comment (the reader may see the request: detail said so).
        feedback = db.scalar(select(Feedback).where(Feedback.request_id == request_id))
    # The request type's own team first, never simply the alphabetically first.
    own = request_type.specialist_team if request_type is not None else None
    teams.sort(key=lambda t: t.key != own)
    relations = spoc.requests.relations(request_id, actor())
    return render_template(
        "console/request.html",
        req=detail,
        field_labels=field_labels,
        teams=teams,
        assignable=assignable,
        priorities=list(Priority),
        panels=_panels(detail.row),
        exports=exports_for(spoc, detail.row),
        articles=_articles_for(spoc, detail.type_key),
        saved_replies=replies,
        feedback=feedback,
        inserted=inserted,
        draft=draft,
        saved_error=saved_error,
        base_url=spoc.settings.base_url.rstrip("/"),
        internal=Visibility.INTERNAL,
        mail=spoc.mail.for_request(request_id, actor()),
        relations=relations,
        # Both timelines on the survivor: each merged duplicate's, read as the page is.
        merged=[
            (line, spoc.requests.detail(line.id, actor(), channel="console").timeline)
            for line in relations.related
            if line.kind == "merged_from"
        ][:10],
        watching=any(w.id == actor().id for w in relations.watchers),
        file_url=lambda attachment_id: url_for(
            "console.request_attachment", request_id=request_id, attachment_id=attachment_id
        ),
    )


def _articles_for(spoc: Spoc, type_key: str) -> list[KnowledgeArticle]:
    """The plugins' and the console's published articles for the request's type."""
    plugin = [a for a in spoc.host.articles if type_key in a.request_types]
    written = spoc.articles.portal_list(request_type=type_key, limit=MAX_ARTICLES)
    return sorted([*plugin, *written], key=lambda a: (a.order, a.key))[:MAX_ARTICLES]


def _inserted_reply(detail: RequestDetail) -> tuple[tuple[int, str] | None, str | None]:
    """``?saved=<id>``: the saved reply rendered for this request, to pre-fill the reply box
    (without JavaScript), or why it cannot be."""
    saved = request.args.get("saved", "")
    if not saved:
        return None, None
    try:
        reply_id = bounded_int(saved, "saved")
        return (reply_id, spoc_of().saved_replies.render(reply_id, actor(), detail)), None
    except NotFoundError:
        return None, "That saved reply is not one of yours or your teams'."
    except ValidationFailed as exc:
        return None, str(exc)


@bp.get("/requests/<int:request_id>/saved-replies/<int:reply_id>")
@role_required(Role.ADMIN, Role.AGENT, Role.SPECIALIST)
def saved_reply_text(request_id: int, reply_id: int) -> Response | tuple[Response, int]:
    """The saved reply rendered for this request, as JSON (the reply box's inline insert)."""
    spoc = spoc_of()
    try:
        detail = spoc.requests.detail(request_id, actor(), channel="console")
        text = spoc.saved_replies.render(reply_id, actor(), detail)
    except (NotFoundError, AccessReasonRequired):
        abort(404)
    except TemplateRefused as exc:
        return jsonify({"error": str(exc)}), 422
    return jsonify({"id": reply_id, "text": text})


ACTIONS = {
    "reply",
    "note",
    "status",
    "resolve",
    "assign",
    "link",
    "escalate",
    "hand_back",
    "priority",
}


@bp.post("/requests/<int:request_id>/<action>")
@role_required(Role.ADMIN, Role.AGENT, Role.SPECIALIST)
def request_action(request_id: int, action: str) -> Response:
    if action not in ACTIONS:
        abort(404)
    spoc = spoc_of()
    me = actor()
    # A change is a read: the same guard as the page, reported as what it was; a refused
    # reader changes nothing and gets the break-glass form, which comes back to the page.
    found = _load(request_id)
    detail = url_for("console.request_detail", request_id=request_id)
    if (refused := guard(f"change:{action}", request_obj=found, next_url=detail)) is not None:
        return refused
    form = request.form
    version = form.get("version", type=int)
    requests, escalations = spoc.requests, spoc.escalations
    try:
        if action in ("reply", "note"):
            saved = form.get("saved_reply_id", "")
            saved_id = bounded_int(saved, "saved_reply_id") if saved else None

            def count_saved_reply(session: Session, _request: Request) -> None:
                # Counted in the message's own write: a use is a message sent, once.
                spoc.saved_replies.count_use(session, saved_id, me)

            if form.get("take") and found.owner_agent_id is None and me.role is not Role.SPECIALIST:
                # "Take it" with the first reply: the requester's page names the new SPOC.
                requests.assign(
                    request_id, me, agent_id=me.id, expected_version=version, reason="Took it"
                )
                version = None
            requests.post_message(
                request_id,
                me,
                form.get("body", ""),
                internal=action == "note",
                expected_version=version,
                attachments=uploads_from(),
                apply=count_saved_reply,
            )
            flash("Reply sent." if action == "reply" else "Note added.", "success")
        elif action == "status":
            try:
                target = Status(form.get("target", ""))
            except ValueError:
                raise ValidationFailed("choose a status", {"target": "unknown status"}) from None
            requests.transition(
                request_id, target, me, expected_version=version, reason=form.get("reason") or None
            )
            flash(f"Status changed to {target.value}.", "success")
        elif action == "resolve":
            requests.resolve(
                request_id, me, expected_version=version, reason=form.get("reason") or None
            )
            flash("Resolved.", "success")
        elif action == "assign":
            to_me = form.get("to") == "me"
            requests.assign(
                request_id,
                me,
                agent_id=me.id if to_me else form.get("agent_id", type=int),
                expected_version=version,
                reason=form.get("reason") or ("Took it" if to_me else None),
            )
            flash("It is yours now." if to_me else "Reassigned.", "success")
        elif action == "link":
            subject_id = _subject_from(form.get("subject", ""))
            requests.link_subject(request_id, me, subject_id, expected_version=version)
            flash("Linked to the subject; its acting SPOC now owns the request.", "success")
        elif action == "escalate":
            hours = form.get("answer_within_hours", type=float)  # finite (webinput)
            if hours is not None and not 0 < hours <= MAX_ANSWER_HOURS:
                raise ValidationFailed(
                    "the answer time is out of range",
                    {"answer_within_hours": f"between 0 and {MAX_ANSWER_HOURS} hours"},
                )
            escalations.escalate(
                request_id,
                me,
                team_key=form.get("team", ""),
                reason=form.get("reason", ""),
                answer_within=BusinessHours(hours) if hours else None,
                expected_version=version,
            )
            flash("Escalated.", "success")
        elif action == "hand_back":
            escalations.hand_back(
                request_id, me, note=form.get("note") or None, expected_version=version
            )
            flash("Handed back to the SPOC.", "success")
        else:
            requests.change_priority(
                request_id,
                me,
                form.get("priority", ""),
                reason=form.get("reason", ""),
                expected_version=version,
            )
            flash("Priority changed.", "success")
    except NotFoundError:
        abort(404)
    except ConflictError:
        flash(
            "Someone else changed this request while you were reading it. Check and retry.", "error"
        )
    except ValueError as exc:
        flash(f"Not changed: {exc}", "error")
    except ServiceError as exc:
        flash(f"Not changed: {exc}", "error")
    return redirect(url_for("console.request_detail", request_id=request_id), code=303)


def _subject_from(text: str) -> int:
    text = text.strip()
    if text.startswith("#") and text[1:].isdigit():
        return bounded_int(text[1:], "subject")
    with spoc_of().db.reader() as db:
        found = list(db.scalars(select(Subject.id).where(Subject.external_ref == text).limit(2)))
    if len(found) != 1:
        raise ValidationFailed(
            "unknown subject", {"subject": f"no single subject with reference {text!r}"}
        )
    return found[0]
