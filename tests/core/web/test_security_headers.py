"""Every response of every blueprint carries the security headers, in production mode."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from spoc.core.services import spoc_of
from tests.conftest import PASSWORD, AppFactory, build_org, give_password

ALL_PLUGINS = ["generic", "healthcare", "projects", "events", "logistics"]
HTTPS = "https://localhost"
INLINE = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
HANDLER_OR_STYLE = re.compile(r"<[a-z][^>]*\s(on[a-z]+|style)\s*=", re.IGNORECASE)


def _production_app(make_app: AppFactory) -> Flask:
    return make_app(env="production", secret_key="s" * 40, plugins=ALL_PLUGINS)


def _signed_in(app: Flask) -> FlaskClient:
    spoc = spoc_of(app)
    org = build_org(spoc)
    give_password(spoc, org.ada)
    client = app.test_client()
    html = client.get("/console/login", base_url=HTTPS).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    response = client.post(
        "/console/login",
        base_url=HTTPS,
        headers={"Referer": f"{HTTPS}/console/login"},
        data={"csrf_token": found.group(1), "email": org.ada.email, "password": PASSWORD},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def _example_url(rule: object) -> str:
    path = str(rule)
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<path:[^>]+>", "spoc.css", path)
    return re.sub(r"<[^>]+>", "x", path)


def _check(path: str, response: object, production: bool = True) -> list[str]:
    headers = response.headers  # type: ignore[attr-defined]
    wrong = []
    csp = headers.get("Content-Security-Policy", "")
    if "frame-ancestors 'none'" not in csp or "unsafe-inline" in csp or "script-src" not in csp:
        wrong.append(f"{path}: CSP {csp!r}")
    if headers.get("X-Frame-Options") != "DENY":
        wrong.append(f"{path}: X-Frame-Options")
    if headers.get("Referrer-Policy") != "same-origin":
        wrong.append(f"{path}: Referrer-Policy")
    if headers.get("X-Content-Type-Options") != "nosniff":
        wrong.append(f"{path}: X-Content-Type-Options")
    if production and not headers.get("Strict-Transport-Security", "").startswith("max-age="):
        wrong.append(f"{path}: HSTS")
    public = path.startswith(("/static/", "/help/"))
    if not public and "no-store" not in headers.get("Cache-Control", ""):
        wrong.append(f"{path}: Cache-Control {headers.get('Cache-Control')!r}")
    if response.mimetype == "text/html":  # type: ignore[attr-defined]
        html = response.get_data(as_text=True)  # type: ignore[attr-defined]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        for _, attributes in INLINE.findall(html):
            if "src=" in attributes or 'type="application/ld+json"' in attributes:
                continue  # an external file, or a data block that never runs
            if not nonce or f'nonce="{nonce.group(1)}"' not in attributes:
                wrong.append(f"{path}: inline <script>/<style> without this request's nonce")
        if HANDLER_OR_STYLE.search(html):
            wrong.append(f"{path}: inline event handler or style attribute")
    return wrong


def test_every_endpoint_of_every_blueprint_sends_security_headers_in_production(
    make_app: AppFactory,
) -> None:
    app = _production_app(make_app)
    client = _signed_in(app)
    anonymous = app.test_client()
    blueprints: set[str] = set()
    wrong: list[str] = []
    checked = 0
    for rule in app.url_map.iter_rules():
        url = _example_url(rule)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        for who in (client, anonymous):
            with who.open(url, method=method, base_url=HTTPS) as response:
                wrong += _check(url, response)
            checked += 1
        blueprints.add(rule.endpoint.rpartition(".")[0] or rule.endpoint)
    # Error pages too: 404, 405 and a too-long API path.
    for url, method in (("/nope", "GET"), ("/api/v1/nope", "GET"), ("/healthz", "DELETE")):
        wrong += _check(url, client.open(url, method=method, base_url=HTTPS))
        checked += 1
    print(f"checked security headers on {checked} responses of {len(blueprints)} blueprints")
    assert not wrong, "\n".join(wrong)
    expected = {"api", "console", "portal", "core", "static"}
    expected |= {f"plugin_{p}" for p in ("healthcare", "projects", "events", "logistics")}
    assert all(any(b.startswith(e) for b in blueprints) for e in expected), blueprints


def test_console_cannot_be_framed_and_private_pages_are_not_stored(
    make_app: AppFactory,
) -> None:
    client = _signed_in(_production_app(make_app))
    for path in ("/console/", "/my-requests", "/track/unknown", "/api/v1/requests"):
        response = client.get(path, base_url=HTTPS)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_in_production(make_app: AppFactory) -> None:
    response = make_app().test_client().get("/")
    assert "Strict-Transport-Security" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/help/x", "/static/spoc.css"])
def test_public_help_and_static_files_may_be_cached(make_app: AppFactory, path: str) -> None:
    with make_app().test_client().get(path) as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")
