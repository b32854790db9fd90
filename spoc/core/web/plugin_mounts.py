"""Plugins' pages under ``/p/<plugin>/`` and their API routes under ``/api/v1/<plugin>``."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from spoc.core.kernel.errors import ServiceError
from spoc.core.platform import hookspecs
from spoc.core.services import Spoc
from spoc.core.web.api.base import Operation, ProblemError, _problem, _service_error
from spoc.core.web.ratelimit import limit_by_setting


def mount_plugins(app: Flask, spoc: Spoc, csrf: CSRFProtect) -> None:
    """Register every enabled plugin's API routes and pages, each with its rate limit."""
    _mount_plugin_routes(app, spoc, csrf)
    _mount_plugin_blueprints(app, spoc)


def _mount_plugin_blueprints(app: Flask, spoc: Spoc) -> None:
    """Each plugin's pages under /p/<plugin>/ (``spoc_blueprints``), CSRF-protected."""
    for plugin, blueprints in spoc.hooks.each(hookspecs.spoc_blueprints):
        for bp in blueprints:
            suffix = bp.url_prefix or ""
            name = f"plugin_{plugin}_{bp.name}"
            app.register_blueprint(bp, url_prefix=f"/p/{plugin}{suffix}", name=name)
            for endpoint in [e for e in app.view_functions if e.startswith(f"{name}.")]:
                limit_by_setting(app, endpoint, "plugin_page_limit")


def _mount_plugin_routes(app: Flask, spoc: Spoc, csrf: CSRFProtect) -> None:
    """Each plugin's API routes on a blueprint at /api/v1/<plugin>, in the OpenAPI document."""
    operations = app.extensions.setdefault("spoc.api_ops", [])
    for plugin, routes in spoc.hooks.each(hookspecs.spoc_api_routes):
        bp = Blueprint(f"api_{plugin}", f"spoc.plugin.{plugin}", url_prefix=f"/api/v1/{plugin}")
        bp.register_error_handler(ProblemError, _problem)
        bp.register_error_handler(ServiceError, _service_error)
        for route in routes:
            rule = route.path.replace("{", "<").replace("}", ">")
            bp.add_url_rule(rule, route.view.__name__, route.view, methods=[route.method])
            operations.append(
                Operation(
                    route.method,
                    f"/{plugin}{route.path}",
                    f"api_{plugin}.{route.view.__name__}",
                    route.summary,
                    plugin,
                    route.body,
                    route.response,
                    route.status,
                    None,
                    route.auth,
                    False,
                    (),
                    plugin,
                )
            )
        csrf.exempt(bp)
        app.register_blueprint(bp)
        for endpoint in [e for e in app.view_functions if e.startswith(f"{bp.name}.")]:
            limit_by_setting(app, endpoint, "api_limit")
