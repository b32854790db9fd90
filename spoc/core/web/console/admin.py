"""Absences (an agent's own, or any for admins) and administration: agents, teams, plugins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Absence, Agent, OutboxMessage, Team
from spoc.core.kernel.errors import NotFoundError, ServiceError, ValidationFailed
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.storage.keyset import Ordering
from spoc.core.web.console.auth import EVERYONE, actor, bp, current_agent, role_required
from spoc.core.web.webinput import bounded_int

PAGE = 50
AGENTS = Ordering("console:agents", Agent.id)
OUTBOX = Ordering("console:outbox", OutboxMessage.id.desc())  # ix_outbox_status (status, id)


def _absences_of(agent_id: int) -> list[Absence]:
    with spoc_of().db.reader() as db:
        return list(
            db.scalars(
                select(Absence)
                .where(Absence.agent_id == agent_id, Absence.ends_on >= spoc_of().requests.today())
                .order_by(Absence.starts_on)
                .limit(PAGE)
            )
        )


@bp.get("/absences")
@role_required(*EVERYONE)
def my_absences() -> str:
    agent = current_agent()
    assert agent is not None
    return render_template("console/absences.html", agent=agent, absences=_absences_of(agent.id))


@bp.get("/cover")
@role_required(*EVERYONE)
def cover_overview() -> str:
    """Who is away now or in the next two weeks, and who covers their open requests."""
    found = spoc_of().cover.overview(cursor=request.args.get("after"))
    return render_template("console/cover.html", rows=found.items, next_after=found.next)


def _back_to(agent_id: int) -> Response:
    me = current_agent()
    assert me is not None
    if agent_id == me.id:
        return redirect(url_for("console.my_absences"), code=303)
    return redirect(url_for("console.admin_agent", agent_id=agent_id), code=303)


@bp.post("/agents/<int:agent_id>/absences")
@role_required(*EVERYONE)
def add_absence(agent_id: int) -> Response:
    form = request.form
    try:
        try:
            starts, ends = (
                date.fromisoformat(form["starts_on"]),
                date.fromisoformat(form["ends_on"]),
            )
        except (KeyError, ValueError):
            raise ValidationFailed("invalid dates", {"starts_on": "enter both dates"}) from None
        spoc_of().directory.record_absence(actor(), agent_id, starts, ends, form.get("note", ""))
        flash("Absence saved: requests route to deputies while you are away.", "success")
    except ServiceError as exc:
        flash(f"Not saved: {exc}", "error")
    return _back_to(agent_id)


@bp.post("/absences/<int:absence_id>/delete")
@role_required(*EVERYONE)
def delete_absence(absence_id: int) -> Response:
    with spoc_of().db.reader() as db:
        absence = db.get(Absence, absence_id)
    if absence is None:
        abort(404)
    try:
        spoc_of().directory.remove_absence(actor(), absence_id)
        flash("Absence removed.", "success")
    except ServiceError as exc:
        flash(f"Not removed: {exc}", "error")
    return _back_to(absence.agent_id)


# --- administration ----------------------------------------------------------------------


@bp.get("/admin/agents")
@role_required(Role.ADMIN)
def admin_agents() -> str:
    spoc = spoc_of()
    with spoc.db.reader() as db:
        found = spoc.pager.page(
            db, select(Agent), AGENTS, limit=PAGE, cursor=request.args.get("after"), field="after"
        )
    return render_template(
        "console/admin_agents.html", rows=found.items, roles=list(Role), next_after=found.next
    )


@bp.post("/admin/agents")
@role_required(Role.ADMIN)
def admin_create_agent() -> Response:
    form = request.form
    try:
        agent = spoc_of().directory.add_agent(
            email=form.get("email", ""),
            name=form.get("name", ""),
            role=form.get("role", "agent"),
            password=form.get("password") or None,
            actor=actor(),
        )
        flash(f"{agent.name} can now sign in.", "success")
    except ServiceError as exc:
        flash(f"Not created: {exc}", "error")
    return redirect(url_for("console.admin_agents"), code=303)


@bp.get("/admin/agents/<int:agent_id>")
@role_required(Role.ADMIN)
def admin_agent(agent_id: int) -> str:
    with spoc_of().db.reader() as db:
        agent = db.get(Agent, agent_id)
        if agent is None:
            abort(404)
        teams = [t.name for t in agent.teams]
    return render_template(
        "console/admin_agent.html",
        agent=agent,
        teams=teams,
        roles=list(Role),
        absences=_absences_of(agent_id),
        paused=spoc_of().auth.is_paused(agent.email),
        two_factor=spoc_of().two_factor.status(agent_id),
    )


@bp.post("/admin/agents/<int:agent_id>/unlock")
@role_required(Role.ADMIN)
def admin_unlock_agent(agent_id: int) -> Response:
    return _on_agent(
        agent_id,
        lambda: spoc_of().auth.unlock(actor(), agent_id),
        "Sign-in unlocked: failed attempts are forgotten.",
        "Not unlocked",
    )


@bp.post("/admin/agents/<int:agent_id>/two-factor/reset")
@role_required(Role.ADMIN)
def admin_reset_two_factor(agent_id: int) -> Response:
    return _on_agent(
        agent_id,
        lambda: spoc_of().two_factor.reset(actor(), agent_id),
        "Two-factor reset: the agent is signed out and enrols again.",
        "Not reset",
    )


def _on_agent(agent_id: int, change: Callable[[], object], done: str, refused: str) -> Response:
    """An admin's action on an agent's account, told on the agent's page."""
    try:
        change()
        flash(done, "success")
    except ServiceError as exc:
        flash(f"{refused}: {exc}", "error")
    return redirect(url_for("console.admin_agent", agent_id=agent_id), code=303)


@bp.post("/admin/agents/<int:agent_id>")
@role_required(Role.ADMIN)
def admin_update_agent(agent_id: int) -> Response:
    form = request.form
    try:
        spoc_of().directory.update_agent(
            actor(), agent_id, role=form.get("role") or None, active=form.get("active") == "on"
        )
        flash("Saved.", "success")
    except ServiceError as exc:
        flash(f"Not saved: {exc}", "error")
    return redirect(url_for("console.admin_agent", agent_id=agent_id), code=303)


@bp.get("/admin/teams")
@role_required(Role.ADMIN)
def admin_teams() -> str:
    with spoc_of().db.reader() as db:
        teams = list(db.scalars(select(Team).order_by(Team.name).limit(PAGE)))
        members = {t.id: {m.id for m in t.members} for t in teams}
        agents = list(
            db.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name).limit(200))
        )
    return render_template("console/admin_teams.html", teams=teams, members=members, agents=agents)


@bp.post("/admin/teams")
@role_required(Role.ADMIN)
def admin_create_team() -> Response:
    form = request.form
    try:
        key = form.get("key", "").strip()
        if not key.replace("_", "").isalnum() or not key.islower():
            raise ValidationFailed("invalid team", {"key": "lower-case letters, digits and _"})
        spoc_of().directory.add_team(key=key, name=form.get("name", "").strip() or key)
        flash("Team created.", "success")
    except ServiceError as exc:
        flash(f"Not created: {exc}", "error")
    return redirect(url_for("console.admin_teams"), code=303)


@bp.post("/admin/teams/<int:team_id>/assignment")
@role_required(Role.ADMIN)
def admin_team_assignment(team_id: int) -> Response:
    form = request.form
    cap = form.get("cap", "").strip()
    try:
        spoc_of().assignment.set_rule(
            actor(),
            team_id,
            form.get("assignment", ""),
            bounded_int(cap, "assignment_cap") if cap else None,
        )
        flash("Assignment rule saved.", "success")
    except NotFoundError:
        abort(404)
    except ServiceError as exc:
        flash(f"Not changed: {exc}", "error")
    return redirect(url_for("console.admin_teams"), code=303)


@bp.post("/admin/teams/<int:team_id>/members")
@role_required(Role.ADMIN)
def admin_team_members(team_id: int) -> Response:
    ids = [int(v) for v in request.form.getlist("members") if v.isdigit()]
    try:
        spoc_of().directory.set_team_members(actor(), team_id, ids)
        flash("Members saved.", "success")
    except ServiceError as exc:
        flash(f"Not saved: {exc}", "error")
    return redirect(url_for("console.admin_teams"), code=303)


@bp.get("/admin/plugins")
@role_required(Role.ADMIN)
def admin_plugins() -> str:
    return render_template("console/admin_plugins.html", plugins=spoc_of().host.plugins)


@bp.get("/admin/outbox")
@role_required(Role.ADMIN)
def admin_outbox() -> str:
    status = request.args.get("status", "dead")
    if status not in ("dead", "pending", "sending", "sent"):
        abort(404)
    spoc = spoc_of()
    query = select(OutboxMessage).where(OutboxMessage.status == status)
    with spoc.db.reader() as db:
        found = spoc.pager.page(
            db, query, OUTBOX, limit=PAGE, cursor=request.args.get("before"), field="before"
        )
    return render_template(
        "console/admin_outbox.html", rows=found.items, status=status, next_before=found.next
    )


@bp.post("/admin/outbox/<int:message_id>/retry")
@role_required(Role.ADMIN)
def admin_outbox_retry(message_id: int) -> Response:
    if spoc_of().outbox.retry(message_id):
        flash("The message will be sent at the next delivery.", "success")
    else:
        flash("Only dead messages can be retried.", "error")
    return redirect(url_for("console.admin_outbox"), code=303)


@bp.get("/admin/tokens")
@role_required(Role.ADMIN)
def admin_tokens() -> str:
    return render_template("console/admin_tokens.html", tokens=spoc_of().tokens.list(), secret=None)


@bp.post("/admin/tokens")
@role_required(Role.ADMIN)
def admin_create_token() -> str | Response:
    try:
        created, secret = spoc_of().tokens.create(
            actor(), request.form.get("agent", ""), request.form.get("name", "")
        )
    except ServiceError as exc:
        flash(f"Not created: {exc}", "error")
        return redirect(url_for("console.admin_tokens"), code=303)
    # Shown in this response only: the database keeps just its digest.
    return render_template(
        "console/admin_tokens.html", tokens=spoc_of().tokens.list(), secret=(created, secret)
    )


@bp.post("/admin/tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def admin_revoke_token(token_id: int) -> Response:
    try:
        spoc_of().tokens.revoke(actor(), token_id)
        flash("Token revoked.", "success")
    except ServiceError as exc:
        flash(f"Not revoked: {exc}", "error")
    return redirect(url_for("console.admin_tokens"), code=303)
