"""Console sign-in by OpenID Connect (``SPOC_OIDC_*``): the button on the sign-in page, and
the provider's way back. Ends in the same session as a password sign-in, and asks the agent's
two-factor code too unless ``SPOC_OIDC_TRUSTS_PROVIDER_MFA`` is on and the provider says it
did multi-factor (``amr`` contains ``mfa``)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from spoc.core.accounts.oidc import OidcError
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import begin_sign_in, bp

SSO_KEY = "console_sso"
SSO_MINUTES = 10  # how long the provider may take to send the browser back


def _callback_url() -> str:
    return spoc_of().settings.base_url.rstrip("/") + url_for("console.sso_callback")


def _refused(message: str) -> tuple[str, int]:
    settings = spoc_of().settings
    page = render_template(
        "console/login.html",
        email="",
        error=f"Single sign-on did not work: {message}",
        next="",
        sso_name=settings.oidc_provider_name,
    )
    return page, 401


@bp.post("/sso/start")
def sso_start() -> tuple[str, int] | Response:
    spoc = spoc_of()
    if spoc.oidc is None:
        abort(404)
    try:
        flow = spoc.oidc.begin(_callback_url())
    except OidcError as exc:
        return _refused(str(exc))
    session[SSO_KEY] = {
        "state": flow.state,
        "nonce": flow.nonce,
        "verifier": flow.verifier,
        "next": request.form.get("next", ""),
        "until": spoc.clock.now().timestamp() + SSO_MINUTES * 60,
    }
    return redirect(flow.url, code=303)


@bp.get("/sso/callback")
def sso_callback() -> tuple[str, int] | Response:
    spoc = spoc_of()
    if spoc.oidc is None:
        abort(404)
    flow = session.pop(SSO_KEY, None)
    if not isinstance(flow, dict) or spoc.clock.now().timestamp() >= float(flow.get("until", 0)):
        return _refused("the sign-in took too long or was not started here; try again.")
    if request.args.get("error"):
        return _refused("the provider did not sign you in.")
    try:
        identity = spoc.oidc.finish(
            code=request.args.get("code", ""),
            state=request.args.get("state", ""),
            expected_state=str(flow["state"]),
            verifier=str(flow["verifier"]),
            nonce=str(flow["nonce"]),
            redirect_uri=_callback_url(),
        )
    except OidcError as exc:
        return _refused(f"{exc}.")
    result = spoc.auth.agent_for_sso(identity.email, identity.name)
    if result.agent is None:
        return _refused(result.message)
    provider_did_mfa = spoc.settings.oidc_trusts_provider_mfa and "mfa" in identity.amr
    return begin_sign_in(
        result.agent.id, identity.email, str(flow.get("next") or ""), code=not provider_did_mfa
    )
