"""The application factory: the composition root that builds one SPOC app.

Nothing in the core imports this module; the web packages register themselves through their
``init_app`` and the services are built in :mod:`spoc.core.services`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from flask import Flask, Response

from spoc.core.domain.outbox import SEAL_LABEL
from spoc.core.kernel.clock import Clock, SystemClock
from spoc.core.kernel.errors import DatabaseNotReadyError
from spoc.core.platform.plugins import load_plugins
from spoc.core.platform.settings import Settings, load_settings
from spoc.core.services import EXTENSION, Spoc
from spoc.core.storage.db import Database
from spoc.core.storage.keys import Keys, Sealer

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'spoc.sqlite'}"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    plugin_entry_points: Iterable[EntryPoint] | None = None,
    web: bool = True,
    **overrides: Any,
) -> Flask:
    """Build the Flask app: settings, plugins (from entry points), database, blueprints.

    ``overrides`` are settings given as keyword arguments (``create_app(env="dev")``).
    ``plugin_entry_points`` replaces discovery, for tests that need a particular plugin set.
    Raises :class:`~spoc.core.kernel.errors.StartupError` with a one-line explanation on bad
    settings or a broken plugin.

    ``web=False`` builds the services and plugins without any page, API route or view: for
    commands that serve nothing (``spoc sweep``, ``spoc worker``), which then start in less
    time and memory.
    """
    settings = settings or load_settings(**overrides)
    app = Flask(
        "spoc",
        root_path=str(PACKAGE_ROOT),
        instance_path=str(settings.instance_path.resolve()) if settings.instance_path else None,
        instance_relative_config=True,
    )
    instance = Path(app.instance_path)
    host = load_plugins(settings, plugin_entry_points)
    url = settings.database_url or default_database_url(instance)
    if url.startswith("sqlite:///") and settings.database_url is None:
        instance.mkdir(parents=True, exist_ok=True)

    app.config.update(
        SECRET_KEY=(
            settings.secret_key.get_secret_value() if settings.secret_key else os.urandom(32)
        ),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.is_development,
        # The cookie never outlives the server-side session it carries (spoc.core.accounts.auth).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    sealer = Sealer(Keys(settings).derive(SEAL_LABEL))
    spoc = Spoc(
        settings=settings,
        host=host,
        db=Database(url, sealer=sealer),
        clock=clock or SystemClock(),
        instance_path=instance,
    )
    app.extensions[EXTENSION] = spoc
    if web:
        _install_web(app, spoc, settings)
    return app


def _install_web(app: Flask, spoc: Spoc, settings: Settings) -> None:
    """The portal, the console, the API and the plugins' pages and routes."""
    # Imported here to keep start-up light: the views, forms and templates' helpers load
    # only for an app that serves them, not for `spoc sweep` or `spoc worker`.
    from spoc.core.web import api, console, pages, portal
    from spoc.core.web.base import init_app as init_web
    from spoc.core.web.files import allow_uploads
    from spoc.core.web.plugin_mounts import mount_plugins

    allow_uploads(app, settings)
    csrf = init_web(app, spoc)
    api.init_app(app, csrf)
    mount_plugins(app, spoc, csrf)
    pages.init_app(app)
    portal.init_app(app)
    console.init_app(app)

    @app.before_request
    def _refuse_stale_schema() -> Response | None:
        if spoc.schema_checked:
            return None
        try:
            spoc.check_database()
        except DatabaseNotReadyError as exc:
            return Response(f"SPOC is not ready: {exc}\n", status=503, mimetype="text/plain")
        return None
