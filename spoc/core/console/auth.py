"""Console sign-in and the role checks every console view goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from spoc.core.app import spoc_of
from spoc.core.models import Agent
from spoc.core.types import Actor, Role

bp = Blueprint("console", __name__, url_prefix="/console")

P = ParamSpec("P")
R = TypeVar("R")
STAFF = (Role.ADMIN, Role.AGENT)
EVERYONE = (Role.ADMIN, Role.AGENT, Role.SPECIALIST, Role.VIEWER)


def current_agent() -> Agent | None:
    if "agent" in g:
        return g.agent  # type: ignore[no-any-return]
    agent_id = session.get("agent_id")
    agent = None
    if agent_id is not None:
        with spoc_of().db.reader() as db:
            agent = db.get(Agent, agent_id)
        # A deactivated account is signed out at its next click.
        if agent is not None and not agent.active:
            session.clear()
            agent = None
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
    result = spoc_of().auth.login(email, request.form.get("password", ""))
    if result.agent is None:
        page = render_template(
            "console/login.html",
            email=email,
            error=result.message,
            next=request.form.get("next", ""),
        )
        return page, 401
    session.clear()  # a new session id on sign-in: no fixation
    session["agent_id"] = result.agent.id
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("console.login"), code=303)


@bp.app_context_processor
def _console_globals() -> dict[str, object]:
    return {"console_agent": current_agent}
