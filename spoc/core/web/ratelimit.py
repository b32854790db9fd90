"""Per-client rate limits (Flask-Limiter): in a SQLite file of the instance folder by default,
so every worker of one server shares one count (see :mod:`spoc.core.web.ratelimit_store`), and
in Redis when ``SPOC_REDIS_URL`` is set so that several app servers share one count.

Each app gets its own :class:`Limiter` (kept in ``app.extensions``), so tests and multiple apps
in one process never share counters. Views are limited by endpoint name after the blueprints
are registered::

    limit_by_setting(app, "portal.submit_request", "portal_submit_limit")

A view may carry its own limit instead (``spoc.rate_limit``, read from ``view.spoc_rate_limit``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from spoc.core.platform.settings import Settings
from spoc.core.web.ratelimit_store import storage_uri

EXTENSION = "spoc.limiter"
RATE_FILE = "ratelimits.sqlite"


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or storage_uri(Path(app.instance_path) / RATE_FILE),
        headers_enabled=True,  # X-RateLimit-* and Retry-After on 429
        key_prefix=f"spoc:{settings.reference_prefix}",
        strategy="moving-window",
    )
    app.extensions[EXTENSION] = limiter
    return limiter


def limit_endpoint(app: Flask, endpoint: str, value: Callable[[], str]) -> None:
    """Apply a limit such as ``"10 per minute"`` (read at request time) to one endpoint."""
    limiter: Limiter = app.extensions[EXTENSION]
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(value)(view)  # type: ignore[assignment]


def limit_by_setting(app: Flask, endpoint: str, setting: str) -> None:
    """Limit ``endpoint`` by the view's own limit (``spoc.rate_limit``) when it has one, else by
    the named setting (``"api_limit"``), read at request time so tests may change it."""
    settings: Settings = app.extensions["spoc"].settings
    own = getattr(app.view_functions[endpoint], "spoc_rate_limit", None)
    reader = (lambda: own) if own else (lambda: str(getattr(settings, setting)))
    limit_endpoint(app, endpoint, reader)
