"""Security headers on every response: CSP with a per-request nonce, no framing, no referrer
leaks, ``no-store`` on anything but static files and public help, HSTS in production.

Templates that need an inline ``<style>`` or ``<script>`` (a plugin's small style sheet) put
``nonce="{{ csp_nonce() }}"`` on it; nothing else inline runs or applies. A JSON-LD data block
(``type="application/ld+json"``) is never executed and needs none.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

from spoc.core.platform.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"
PUBLIC_PREFIXES = ("/static/", "/help/")


def csp_nonce() -> str:
    """This request's nonce for inline ``<style>``/``<script>`` (made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return str(nonce)


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def install_security_headers(app: Flask, settings: Settings) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts, and
        # a tracking token in our URL must never travel to another site.
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not settings.is_development:
            headers["Strict-Transport-Security"] = HSTS
        if not request.path.startswith(PUBLIC_PREFIXES):
            # Private by default: tracking pages, console, API answers, the forms with their
            # CSRF token. Only static files and the public help articles may be kept.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
