"""Console sign-in and the role checks every console view goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session as DbSession
from werkzeug.wrappers import Response

from spoc.core.app import spoc_of
from spoc.core.errors import ValidationFailed
from spoc.core.models import Agent
from spoc.core.types import Actor, Role

bp = Blueprint("console", __name__, url_prefix="/console")

P = ParamSpec("P")
R = TypeVar("R")
STAFF = (Role.ADMIN, Role.AGENT)
EVERYONE = (Role.ADMIN, Role.AGENT, Role.SPECIALIST, Role.VIEWER)
SESSION_KEY = "console_session"


def current_agent() -> Agent | None:
    if "agent" in g:
        return g.agent  # type: ignore[no-any-return]
    token = session.get(SESSION_KEY)
    agent = None
    if isinstance(token, str):
        # Checked against the database on every request: signed out, idle, too old, password
        # changed or deactivated all end the session, even for a copied cookie.
        agent = spoc_of().auth.agent_for_session(token)
        if agent is None:
            session.clear()
    g.agent = agent
    return agent


def actor() -> Actor:
    agent = current_agent()
    assert agent is not None
    return Actor.agent(agent.id, agent.role, agent.name)


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Sign-in required; then 403 unless the agent has one of ``roles``."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            agent = current_agent()
            if agent is None:
                return redirect(url_for("console.login", next=request.full_path), code=303)
            if agent.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect a freshly signed-in agent to another host.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("console.queue", name="mine")


@bp.get("/login")
def login() -> str | Response:
    if current_agent() is not None:
        return redirect(_safe_next(request.args.get("next")), code=303)
    return render_template(
        "console/login.html", email="", error=None, next=request.args.get("next", "")
    )


@bp.post("/login")
def login_submit() -> tuple[str, int] | Response:
    email = request.form.get("email", "")
    result = spoc_of().auth.login(
        email, request.form.get("password", ""), client=request.remote_addr or "unknown"
    )
    if result.agent is None:
        page = render_template(
            "console/login.html",
            email=email,
            error=result.message,
            next=request.form.get("next", ""),
        )
        return page, 401
    session.clear()  # a new session token on sign-in: no fixation
    session[SESSION_KEY] = spoc_of().auth.open_session(result.agent.id)
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout() -> Response:
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        spoc_of().auth.close_session(token)
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("console.login"), code=303)


@bp.app_context_processor
def _console_globals() -> dict[str, object]:
    return {"console_agent": current_agent}


# --- the agent's own account: password change; forgotten passwords ---------------------


@bp.get("/account")
@role_required(*EVERYONE)
def account() -> str:
    return render_template("console/account.html", errors={})


@bp.post("/account/password")
@role_required(*EVERYONE)
def change_password() -> tuple[str, int] | Response:
    spoc = spoc_of()
    me = actor()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        errors = {"confirm_password": "the two new passwords differ"}
        return render_template("console/account.html", errors=errors), 422
    try:
        spoc.auth.change_password(me, request.form.get("current_password", ""), new)
    except ValidationFailed as exc:
        return render_template("console/account.html", errors=exc.errors), 422
    # Every session ended with the change, this one too: give this device a fresh one.
    session.clear()
    assert me.id is not None
    session[SESSION_KEY] = spoc.auth.open_session(me.id)
    session.permanent = True
    flash("Password changed. Every other device is signed out.", "success")
    return redirect(url_for("console.account"), code=303)


@bp.get("/forgot")
def forgot() -> str:
    return render_template("console/forgot.html", sent=False)


@bp.post("/forgot")
def forgot_submit() -> str:
    spoc = spoc_of()

    def send(db: DbSession, agent: Agent, token: str) -> None:
        link = spoc.settings.base_url.rstrip("/") + url_for("console.reset", token=token)
        spoc.notifier.mail(
            db,
            None,
            agent.email,
            "Set a new password",
            "password_reset",
            name=agent.name,
            link=link,
            minutes=spoc.settings.password_reset_minutes,
        )

    spoc.auth.request_reset(request.form.get("email", ""), send)
    # The same answer whether or not the address has an account.
    return render_template("console/forgot.html", sent=True)


@bp.get("/reset/<token>")
def reset(token: str) -> tuple[str, int] | str:
    if not spoc_of().auth.reset_is_valid(token):
        return render_template("console/reset.html", token=None, errors={}), 404
    return render_template("console/reset.html", token=token, errors={})


@bp.post("/reset/<token>")
def reset_submit(token: str) -> tuple[str, int] | Response:
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        errors = {"confirm_password": "the two new passwords differ"}
        return render_template("console/reset.html", token=token, errors=errors), 422
    try:
        done = spoc_of().auth.reset_password(token, new)
    except ValidationFailed as exc:
        return render_template("console/reset.html", token=token, errors=exc.errors), 422
    if not done:
        return render_template("console/reset.html", token=None, errors={}), 404
    session.clear()
    flash("Your new password is set. Sign in with it.", "success")
    return redirect(url_for("console.login"), code=303)
