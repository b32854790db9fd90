"""Console sign-in and the role checks every console view goes through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session as DbSession
from werkzeug.wrappers import Response

from spoc.core.accounts.auth import REFUSED
from spoc.core.accounts.two_factor import SecondStep
from spoc.core.domain.models import Agent
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.types import Actor, Role
from spoc.core.services import spoc_of

bp = Blueprint("console", __name__, url_prefix="/console")

P = ParamSpec("P")
R = TypeVar("R")
STAFF = (Role.ADMIN, Role.AGENT)
EVERYONE = (Role.ADMIN, Role.AGENT, Role.SPECIALIST, Role.VIEWER)
SESSION_KEY = "console_session"
PENDING_KEY = "console_pending_2fa"
WRONG_CODE = (
    "That code is not right. Type the code your authenticator shows now, or a recovery code."
)


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


# What an admin who must enrol may still reach (SPOC_REQUIRE_2FA_FOR_ADMINS).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "console.account",
        "console.change_password",
        "console.two_factor_start",
        "console.two_factor_confirm",
    }
)


def must_enrol(agent: Agent) -> bool:
    """An admin of an organisation that requires two-factor, without it yet."""
    spoc = spoc_of()
    if agent.role is not Role.ADMIN or not spoc.settings.require_2fa_for_admins:
        return False
    if "must_enrol" not in g:
        g.must_enrol = not spoc.two_factor.is_enrolled(agent.id)
    return bool(g.must_enrol)


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Sign-in required; then 403 unless the agent has one of ``roles``."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            agent = current_agent()
            if agent is None:
                return redirect(url_for("console.login", next=request.full_path), code=303)
            if must_enrol(agent) and request.endpoint not in ENROLMENT_ENDPOINTS:
                flash("Your organisation asks admins to turn on two-factor first.", "error")
                return redirect(url_for("console.account"), code=303)
            if agent.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def landing_url(role: Role) -> str:
    """Where ``role`` lands: a viewer on Reports (theirs to read, not queues to work); anyone
    else on the first queue they may see."""
    if role is Role.VIEWER:
        return url_for("console.reports")
    first = spoc_of().queues.available(Actor.agent(0, role, ""))[0]
    return url_for("console.queue", name=first.name)


def _safe_next(target: str | None, agent_id: int) -> str:
    # Only same-site paths: never redirect a freshly signed-in agent to another host.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    with spoc_of().db.reader() as db:
        agent = db.get(Agent, agent_id)
        role = agent.role if agent is not None else Role.VIEWER
    return landing_url(role)


@bp.get("/login")
def login() -> str | Response:
    if (agent := current_agent()) is not None:
        return redirect(_safe_next(request.args.get("next"), agent.id), code=303)
    return render_template(
        "console/login.html",
        email="",
        error=None,
        next=request.args.get("next", ""),
        sso_name=_sso_name(),
    )


def _sso_name() -> str | None:
    settings = spoc_of().settings
    return settings.oidc_provider_name if settings.oidc_issuer else None


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
            sso_name=_sso_name(),
        )
        return page, 401
    return begin_sign_in(result.agent.id, email, request.form.get("next"))


def begin_sign_in(
    agent_id: int, email: str, next_url: str | None, *, code: bool = True
) -> Response:
    """After a right password (or SSO): open the console session, or first ask the agent's
    second factor when they have one (``code=False`` when it was proven elsewhere)."""
    spoc = spoc_of()
    session.clear()  # a new session on sign-in: no fixation
    if code and spoc.two_factor.is_enrolled(agent_id):
        until = spoc.clock.now() + timedelta(minutes=spoc.settings.two_factor_pending_minutes)
        session[PENDING_KEY] = {
            "agent": agent_id,
            "email": email,
            "until": until.timestamp(),
            "next": next_url or "",
        }
        return redirect(url_for("console.login_code"), code=303)
    session[SESSION_KEY] = spoc.auth.open_session(agent_id)
    session.permanent = True
    return redirect(_safe_next(next_url, agent_id), code=303)


def _pending() -> dict[str, Any] | None:
    """The agent whose password was right, waiting for their code; ``None`` once expired."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    until = pending.get("until")
    if not isinstance(until, int | float) or spoc_of().clock.now().timestamp() >= until:
        session.pop(PENDING_KEY, None)
        return None
    return pending


@bp.get("/login/code")
def login_code() -> str | Response:
    if _pending() is None:
        flash("Sign in again: the code must follow the password within a few minutes.", "error")
        return redirect(url_for("console.login"), code=303)
    return render_template("console/login_code.html", error=None)


@bp.post("/login/code")
def login_code_submit() -> tuple[str, int] | Response:
    spoc = spoc_of()
    pending = _pending()
    if pending is None:
        flash("Sign in again: the code must follow the password within a few minutes.", "error")
        return redirect(url_for("console.login"), code=303)
    agent_id, email = int(pending["agent"]), str(pending["email"])
    outcome = spoc.two_factor.check_sign_in(
        agent_id, email, request.remote_addr or "unknown", request.form.get("code", "")
    )
    if outcome is SecondStep.PASSED:
        session.pop(PENDING_KEY, None)
        session[SESSION_KEY] = spoc.auth.open_session(agent_id)
        session.permanent = True
        return redirect(_safe_next(str(pending.get("next") or ""), agent_id), code=303)
    if outcome is SecondStep.PAUSED:
        session.pop(PENDING_KEY, None)
        page = render_template(
            "console/login.html", email=email, error=REFUSED, next="", sso_name=_sso_name()
        )
        return page, 401
    return render_template("console/login_code.html", error=WRONG_CODE), 401


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
    return {
        "console_agent": current_agent,
        "demo_mailbox": spoc_of().settings.demo_mailbox is not None,
    }


# --- the agent's own account: password change; forgotten passwords ---------------------


def _account_page(errors: dict[str, str], **extra: Any) -> str:
    me = actor()
    assert me.id is not None
    two_factor = spoc_of().two_factor
    return render_template(
        "console/account.html",
        errors=errors,
        two_factor=two_factor.status(me.id),
        enrolment=two_factor.pending_enrolment(me),
        must_enrol=must_enrol(current_agent()),  # type: ignore[arg-type]
        **extra,
    )


@bp.get("/account")
@role_required(*EVERYONE)
def account() -> str:
    return _account_page({})


@bp.post("/account/two-factor/start")
@role_required(*EVERYONE)
def two_factor_start() -> tuple[str, int] | Response:
    try:
        spoc_of().two_factor.start_enrolment(actor())
    except ValidationFailed as exc:
        return _account_page(exc.errors), 422
    return redirect(url_for("console.account", _anchor="two-factor"), code=303)


@bp.post("/account/two-factor/confirm")
@role_required(*EVERYONE)
def two_factor_confirm() -> tuple[str, int] | str:
    try:
        codes = spoc_of().two_factor.confirm_enrolment(actor(), request.form.get("code", ""))
    except ValidationFailed as exc:
        return _account_page(exc.errors), 422
    g.pop("must_enrol", None)
    # Shown in this response only: the codes are not kept in clear anywhere.
    return _account_page({}, recovery_codes=codes)


@bp.post("/account/two-factor/disable")
@role_required(*EVERYONE)
def two_factor_disable() -> tuple[str, int] | Response:
    try:
        spoc_of().two_factor.disable(
            actor(), request.form.get("password", ""), request.form.get("code", "")
        )
    except ValidationFailed as exc:
        return _account_page(exc.errors), 422
    flash("Two-factor is off.", "success")
    return redirect(url_for("console.account"), code=303)


@bp.post("/account/password")
@role_required(*EVERYONE)
def change_password() -> tuple[str, int] | Response:
    spoc = spoc_of()
    me = actor()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        errors = {"confirm_password": "the two new passwords differ"}
        return _account_page(errors), 422
    try:
        spoc.auth.change_password(me, request.form.get("current_password", ""), new)
    except ValidationFailed as exc:
        return _account_page(exc.errors), 422
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
