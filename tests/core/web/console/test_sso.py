"""OpenID Connect single sign-on, end to end against a real provider on 127.0.0.1.

The provider is a small Flask app in this file, served over real HTTP by werkzeug in a thread:
a discovery document, a JWKS with an RSA key made here, an authorize endpoint that sends the
browser back with a code, and a token endpoint that checks the client, the code, the redirect
URI and the PKCE verifier before it returns an ID token signed with that key. SPOC's part is
driven with the Flask test client, following the redirects by hand.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
import requests
from flask import Flask, jsonify, redirect
from flask import request as http_request
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from spoc import FrozenClock
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry, Agent
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org, csrf_token, free_port

pytestmark = pytest.mark.slow

CLIENT_ID = "spoc-console"
CLIENT_SECRET = "a client secret made for this test"
CALLBACK = "http://127.0.0.1:5000/console/sso/callback"


@dataclass
class Provider:
    """What the test provider will say about the next person who signs in."""

    issuer: str
    clock: FrozenClock
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    email: str = "dana@example.org"
    email_verified: bool = True
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    nonce_override: str | None = None
    signing_key: RSAKey | None = None  # a key other than the published one
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def app(self) -> Flask:
        app = Flask("test_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize() -> Response | tuple[str, int]:
            args = http_request.args
            if (
                args.get("client_id") != CLIENT_ID
                or args.get("response_type") != "code"
                or args.get("redirect_uri") != CALLBACK
                or args.get("code_challenge_method") != "S256"
                or not args.get("code_challenge")
                or "openid" not in args.get("scope", "").split()
            ):
                return "bad authorization request", 400
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "challenge": args["code_challenge"],
                "nonce": args.get("nonce"),
                "redirect_uri": args["redirect_uri"],
            }
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}", code=302)

        @app.post("/token")
        def token() -> Response | tuple[Response, int]:
            self.token_requests += 1
            form = http_request.form
            auth = http_request.authorization
            if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
                return jsonify(error="invalid_client"), 401
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if challenge != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            now = int(self.clock.now().timestamp())
            claims = {
                "iss": self.issuer,
                "sub": "provider-user-1",
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": self.nonce_override or grant["nonce"],
                "email": self.email,
                "email_verified": self.email_verified,
                "name": "Dana from the provider",
                "amr": self.amr,
            }
            signer = self.signing_key or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, signer)
            return jsonify(
                access_token=secrets.token_urlsafe(16),
                token_type="Bearer",
                expires_in=300,
                id_token=id_token,
            )

        return app


@pytest.fixture
def provider(clock: FrozenClock) -> Iterator[Provider]:
    port = free_port()
    found = Provider(issuer=f"http://127.0.0.1:{port}", clock=clock)
    server = make_server("127.0.0.1", port, found.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        thread.join(timeout=5)


def sso_app(make_app: AppFactory, provider: Provider, **overrides: Any) -> tuple[Flask, Org]:
    app = make_app(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_provider_name="Example ID",
        **overrides,
    )
    return app, build_org(spoc_of(app))


def to_provider(client: FlaskClient) -> str:
    """Press the button on the sign-in page; returns the provider URL SPOC sends to."""
    page = client.get("/console/login").get_data(as_text=True)
    assert "Sign in with Example ID" in page
    token = csrf_token(client, "/console/login")
    started = client.post("/console/sso/start", data={"csrf_token": token})
    assert started.status_code == 303
    return started.headers["Location"]


def back_from_provider(provider_url: str) -> str:
    """The browser at the provider: a real HTTP request; returns where it is sent back."""
    answer = requests.get(provider_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = answer.headers["Location"]
    assert back.startswith(CALLBACK)
    return back


def callback(client: FlaskClient, back: str) -> TestResponse:
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def sso_sign_in(client: FlaskClient) -> TestResponse:
    return callback(client, back_from_provider(to_provider(client)))


def test_existing_agent_signs_in_by_sso(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider)
    client = app.test_client()
    provider_url = to_provider(client)
    query = parse_qs(urlsplit(provider_url).query)
    assert provider_url.startswith(f"{provider.issuer}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"][0]
    done = callback(client, back_from_provider(provider_url))
    assert done.status_code == 303, done.get_data(as_text=True)
    assert provider.token_requests == 1
    assert client.get("/console/queues/mine").status_code == 200
    assert "Dana Reyes" in client.get("/console/account").get_data(as_text=True)


def test_unknown_email_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, org = sso_app(make_app, provider)
    provider.email = "stranger@example.org"
    client = app.test_client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401
    assert "No active console account" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303
    with org.spoc.db.reader() as db:
        assert db.scalar(select(Agent).where(Agent.email == "stranger@example.org")) is None


def test_unverified_email_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider)
    provider.email_verified = False
    client = app.test_client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401 and "not verified" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303


def test_wrong_state_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider)
    client = app.test_client()
    back = back_from_provider(to_provider(client))
    forged = back.replace("state=", "state=forged")
    refused = callback(client, forged)
    assert refused.status_code == 401 and "(state)" in refused.get_data(as_text=True)
    assert provider.token_requests == 0  # the code was never even traded
    assert client.get("/console/queues/mine").status_code == 303


def test_answer_started_in_another_browser_is_refused(
    make_app: AppFactory, provider: Provider
) -> None:
    app, _ = sso_app(make_app, provider)
    back = back_from_provider(to_provider(app.test_client()))
    victim = app.test_client()
    refused = callback(victim, back)
    assert refused.status_code == 401
    assert victim.get("/console/queues/mine").status_code == 303


def test_wrong_nonce_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider)
    provider.nonce_override = "a nonce from another sign-in"
    client = app.test_client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401
    assert "did not verify" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303


def test_token_signed_by_another_key_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider)
    provider.signing_key = RSAKey.generate_key(2048, auto_kid=True)  # not in the JWKS
    client = app.test_client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401
    assert "did not verify" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303


def test_disallowed_domain_is_refused(make_app: AppFactory, provider: Provider) -> None:
    app, _ = sso_app(make_app, provider, oidc_allowed_domains="example.com")
    client = app.test_client()
    refused = sso_sign_in(client)
    assert refused.status_code == 401
    assert "example.org may not sign in" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303


def test_new_address_gets_an_account_only_when_the_setting_names_a_role(
    make_app: AppFactory, provider: Provider
) -> None:
    app, org = sso_app(make_app, provider, oidc_create_agents_as="viewer")
    provider.email = "newcomer@example.org"
    client = app.test_client()
    assert sso_sign_in(client).status_code == 303
    assert "newcomer@example.org" in client.get("/console/account").get_data(as_text=True)
    with org.spoc.db.reader() as db:
        agent = db.scalar(select(Agent).where(Agent.email == "newcomer@example.org"))
        assert agent is not None and agent.role.value == "viewer"
        [entry] = db.scalars(
            select(AdminAuditEntry).where(AdminAuditEntry.action == AuditAction.SSO_AGENT_CREATED)
        )
        assert entry.target_id == agent.id


def test_sso_still_asks_the_two_factor_code(
    make_app: AppFactory, provider: Provider, clock: FrozenClock
) -> None:
    app, org = sso_app(make_app, provider)
    enrolment = org.spoc.two_factor.start_enrolment(org.actor(org.dana))
    org.spoc.two_factor.confirm_enrolment(
        org.actor(org.dana), pyotp.TOTP(enrolment.secret).at(clock.now())
    )
    clock.advance(timedelta(seconds=30))
    provider.amr = ["pwd", "mfa"]  # the provider says it did MFA: not trusted by default
    client = app.test_client()
    done = sso_sign_in(client)
    assert done.status_code == 303 and done.headers["Location"] == "/console/login/code"
    assert client.get("/console/queues/mine").status_code == 303
    token = csrf_token(client, "/console/login/code")
    code = pyotp.TOTP(enrolment.secret).at(clock.now())
    assert (
        client.post("/console/login/code", data={"csrf_token": token, "code": code}).status_code
        == 303
    )
    assert client.get("/console/queues/mine").status_code == 200


def test_provider_mfa_is_trusted_only_when_the_setting_says_so(
    make_app: AppFactory, provider: Provider, clock: FrozenClock
) -> None:
    app, org = sso_app(make_app, provider, oidc_trusts_provider_mfa=True)
    enrolment = org.spoc.two_factor.start_enrolment(org.actor(org.dana))
    org.spoc.two_factor.confirm_enrolment(
        org.actor(org.dana), pyotp.TOTP(enrolment.secret).at(clock.now())
    )
    provider.amr = ["pwd"]  # no MFA at the provider: SPOC asks its own code
    first = app.test_client()
    assert sso_sign_in(first).headers["Location"] == "/console/login/code"
    provider.amr = ["pwd", "mfa"]
    second = app.test_client()
    done = sso_sign_in(second)
    assert done.status_code == 303 and done.headers["Location"] != "/console/login/code"
    assert second.get("/console/queues/mine").status_code == 200


def test_no_sso_button_or_route_without_the_setting(app: Flask) -> None:
    client = app.test_client()
    assert "Sign in with" not in client.get("/console/login").get_data(as_text=True)
    token = csrf_token(client, "/console/login")
    assert client.post("/console/sso/start", data={"csrf_token": token}).status_code == 404
    assert client.get("/console/sso/callback?code=x&state=y").status_code == 404
