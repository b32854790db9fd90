"""The console's saved replies and knowledge base: list, write, edit, publish.

Bad input re-shows the form with the error at its field and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.knowledge.articles import WRITERS, ArticleDraft, ArticleLine
from spoc.core.domain.knowledge.markdown import article_html
from spoc.core.domain.knowledge.replies import POSTERS
from spoc.core.domain.knowledge.templates import VARIABLES
from spoc.core.domain.models import Team, TeamMember
from spoc.core.kernel.errors import NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import actor, bp, role_required
from spoc.core.web.webinput import bounded_int


def _teams_for_new_reply() -> list[Team]:
    me = actor()
    with spoc_of().db.reader() as db:
        query = select(Team).order_by(Team.name)
        if me.role is not Role.ADMIN:
            query = query.join(TeamMember, TeamMember.team_id == Team.id).where(
                TeamMember.agent_id == me.id
            )
        return list(db.scalars(query))


# --- saved replies ---------------------------------------------------------------------


@bp.get("/saved-replies")
@role_required(*POSTERS)
def saved_replies() -> str:
    return str(_replies_page())


def _replies_page(
    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    page = render_template(
        "console/saved_replies.html",
        replies=spoc_of().saved_replies.for_agent(actor()),
        teams=_teams_for_new_reply(),
        values=values or {},
        errors=errors or {},
        variables=VARIABLES,
    )
    return (page, status) if status != 200 else page


@bp.post("/saved-replies")
@role_required(*POSTERS)
def create_saved_reply() -> Response | tuple[str, int]:
    form = request.form
    team = form.get("team_id", "")
    try:
        spoc_of().saved_replies.create(
            actor(),
            title=form.get("title", ""),
            body=form.get("body", ""),
            team_id=bounded_int(team, "team_id") if team else None,
        )
    except ValidationFailed as exc:
        return _replies_page(form.to_dict(), exc.errors, 422)  # type: ignore[no-any-return]
    except ServiceError as exc:
        flash(f"Not saved: {exc}", "error")
        return redirect(url_for("console.saved_replies"), code=303)
    flash("Saved reply added.", "success")
    return redirect(url_for("console.saved_replies"), code=303)


@bp.get("/saved-replies/<int:reply_id>")
@role_required(*POSTERS)
def edit_saved_reply(reply_id: int) -> str:
    try:
        reply = spoc_of().saved_replies.get(reply_id, actor())
    except NotFoundError:
        abort(404)
    return render_template(
        "console/saved_reply.html",
        reply=reply,
        values={"title": reply.title, "body": reply.body},
        errors={},
        variables=VARIABLES,
    )


@bp.post("/saved-replies/<int:reply_id>")
@role_required(*POSTERS)
def update_saved_reply(reply_id: int) -> Response | tuple[str, int]:
    spoc, me = spoc_of(), actor()
    try:
        reply = spoc.saved_replies.get(reply_id, me)
    except NotFoundError:
        abort(404)
    form = request.form
    if form.get("delete"):
        spoc.saved_replies.delete(me, reply_id)
        flash("Saved reply removed.", "success")
        return redirect(url_for("console.saved_replies"), code=303)
    try:
        spoc.saved_replies.update(
            me, reply_id, title=form.get("title", ""), body=form.get("body", "")
        )
    except ValidationFailed as exc:
        page = render_template(
            "console/saved_reply.html",
            reply=reply,
            values=form.to_dict(),
            errors=exc.errors,
            variables=VARIABLES,
        )
        return page, 422
    flash("Saved reply changed.", "success")
    return redirect(url_for("console.saved_replies"), code=303)


# --- knowledge base ----------------------------------------------------------------------


@bp.get("/articles")
@role_required(*WRITERS)
def articles() -> str:
    page = spoc_of().articles.console_page(cursor=request.args.get("cursor"))
    return render_template("console/articles.html", page=page)


def _draft_from_form() -> ArticleDraft:
    form = request.form
    order = form.get("order", "").strip()
    return ArticleDraft(
        title=form.get("title", ""),
        summary=form.get("summary", ""),
        body=form.get("body", ""),
        request_types=tuple(form.getlist("request_types")),
        plugin=form.get("plugin") or None,
        order=bounded_int(order, "order") if order else 100,
    )


def _article_form(
    article: ArticleLine | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    spoc = spoc_of()
    body = values.get("body", "")
    return (
        render_template(
            "console/article.html",
            article=article,
            values=values,
            errors=errors or {},
            request_types=list(spoc.host.request_types),
            plugins=spoc.host.enabled,
            preview=article_html(body) if body.strip() else "",
            base_url=spoc.settings.base_url.rstrip("/"),
        ),
        status,
    )


def _values_of(article: ArticleLine) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "language": article.language,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "request_types": list(article.request_types),
        "plugin": article.plugin or "",
        "order": article.order,
    }


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = request.form.to_dict()
    values["request_types"] = request.form.getlist("request_types")
    return values


@bp.get("/articles/new")
@role_required(*WRITERS)
def new_article() -> tuple[str, int]:
    return _article_form(None, {"language": "en", "order": 100})


@bp.post("/articles/new")
@role_required(*WRITERS)
def create_article() -> Response | tuple[str, int]:
    form = request.form
    try:
        created = spoc_of().articles.create(
            actor(), form.get("slug", ""), form.get("language", ""), _draft_from_form()
        )
    except ValidationFailed as exc:
        return _article_form(None, _form_values(), exc.errors, 422)
    flash("Draft saved. Publish it when it is ready.", "success")
    return redirect(url_for("console.edit_article", article_id=created.id), code=303)


@bp.get("/articles/<int:article_id>")
@role_required(*WRITERS)
def edit_article(article_id: int) -> tuple[str, int]:
    try:
        article = spoc_of().articles.get(article_id)
    except NotFoundError:
        abort(404)
    return _article_form(article, _values_of(article))


@bp.post("/articles/<int:article_id>")
@role_required(*WRITERS)
def save_article(article_id: int) -> Response | tuple[str, int]:
    spoc, me = spoc_of(), actor()
    try:
        article = spoc.articles.get(article_id)
    except NotFoundError:
        abort(404)
    action = request.form.get("action", "save")
    try:
        if action == "publish":
            spoc.articles.publish(me, article_id)
            flash("Published: the portal shows this version now.", "success")
        elif action == "unpublish":
            spoc.articles.unpublish(me, article_id)
            flash("Taken off the portal.", "success")
        else:
            spoc.articles.save(me, article_id, _draft_from_form())
            flash("Draft saved.", "success")
    except ValidationFailed as exc:
        if action != "save":
            flash(f"Not changed: {exc}", "error")
            return redirect(url_for("console.edit_article", article_id=article_id), code=303)
        values = {**_values_of(article), **_form_values()}
        return _article_form(article, values, exc.errors, 422)
    return redirect(url_for("console.edit_article", article_id=article_id), code=303)
