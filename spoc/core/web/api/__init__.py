"""The JSON API under ``/api/v1``: the same service layer as the web, bearer tokens, RFC 9457
problem details, optimistic locking with ETag/If-Match, idempotent creates, and an OpenAPI
3.1 document generated from the operations registered here (plugins' included)."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from spoc.core.web.api import audit as audit
from spoc.core.web.api import directory as directory
from spoc.core.web.api import onboarding as onboarding
from spoc.core.web.api import openapi as openapi
from spoc.core.web.api import reports as reports
from spoc.core.web.api import requests as requests
from spoc.core.web.api import search as search
from spoc.core.web.api.base import Operation, ProblemError, api_bp, operation
from spoc.core.web.ratelimit import limit_by_setting

__all__ = ["Operation", "ProblemError", "api_bp", "init_app", "operation"]


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    """Register the API, exempt from CSRF (bearer tokens, not cookies: no cross-site forgery
    to defend) and limited per client by ``SPOC_API_LIMIT``."""
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    for endpoint in [e for e in app.view_functions if e.startswith("api.")]:
        limit_by_setting(app, endpoint, "api_limit")
