"""The application factory and the ``spoc`` extension kept in ``app.extensions``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, current_app
from pydantic import BaseModel

from spoc.core import migrate
from spoc.core.auth import AuthService
from spoc.core.clock import Clock, SystemClock
from spoc.core.db import Database
from spoc.core.directory import DirectoryService
from spoc.core.errors import DatabaseNotReadyError, PluginError
from spoc.core.escalation import EscalationService
from spoc.core.keys import Keys, Sealer
from spoc.core.links import LinkService
from spoc.core.notifications import Notifier
from spoc.core.oidc import OidcClient
from spoc.core.outbox import SEAL_LABEL, Deliverer
from spoc.core.plugins import PluginHost, load_plugins
from spoc.core.privacy import ContactPrivacyService
from spoc.core.requests import RequestService
from spoc.core.settings import Settings, load_settings
from spoc.core.sla import SlaEngine, build_calendars
from spoc.core.tokens import TokenService
from spoc.core.two_factor import SEAL_LABEL as TWO_FACTOR_LABEL
from spoc.core.two_factor import TwoFactorService
from spoc.core.writes import ServiceDeps

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from spoc.core.models import Request
    from spoc.core.sweep import SweepReport
    from spoc.core.types import SlaPolicy

EXTENSION = "spoc"
MAX_URL_LENGTH = 2048  # path and query string, in characters
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
M = TypeVar("M", bound=BaseModel)


@dataclass
class Spoc:
    """Everything the core owns for one app: settings, plugins, database, clock, services."""

    settings: Settings
    host: PluginHost
    db: Database
    clock: Clock
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    keys: Keys = field(init=False)
    # Per-app objects of plugins, by plugin name (never module globals: one app per test).
    state: dict[str, Any] = field(default_factory=dict)
    requests: RequestService = field(init=False)
    escalations: EscalationService = field(init=False)
    directory: DirectoryService = field(init=False)
    privacy: ContactPrivacyService = field(init=False)
    links: LinkService = field(init=False)
    auth: AuthService = field(init=False)
    tokens: TokenService = field(init=False)
    two_factor: TwoFactorService = field(init=False)
    oidc: OidcClient | None = field(init=False)  # single sign-on, when configured
    sla: SlaEngine = field(init=False)
    outbox: Deliverer = field(init=False)
    notifier: Notifier = field(init=False)
    schema_checked: bool = False

    def __post_init__(self) -> None:
        self.keys = Keys(self.settings)
        self.sla = SlaEngine(self.settings, build_calendars(self.settings), self.host.request_types)
        deps = ServiceDeps(self.db, self.host, self.settings, self.clock, owner=self)
        self.sla.choose = self._sla_policy
        deps.observers.append(self.sla)
        self.requests = RequestService(deps)
        self.escalations = EscalationService(deps)
        self.directory = DirectoryService(deps)
        self.privacy = ContactPrivacyService(deps)
        self.links = LinkService(deps)
        self.auth = AuthService(deps)
        self.tokens = TokenService(deps)
        self.two_factor = TwoFactorService(
            deps, Sealer(self.keys.derive(TWO_FACTOR_LABEL)), self.auth
        )
        self.oidc = OidcClient(self.settings, self.clock) if self.settings.oidc_issuer else None
        self.notifier = Notifier(self.settings, self.host, self.requests.reference, self.clock)
        deps.late_observers.append(self.notifier)
        self.outbox = Deliverer(self)

    def _sla_policy(
        self, session: Session, request: Request, policy: SlaPolicy, at: datetime
    ) -> SlaPolicy:
        """``spoc_sla_policy``: the first plugin (by name) that answers chooses."""
        for plugin, chosen in self.host.call_each(
            "spoc_sla_policy", request=request, policy=policy, at=at, session=session, spoc=self
        ):
            from spoc.core.types import SlaPolicy

            if not isinstance(chosen, SlaPolicy):
                raise PluginError(
                    plugin, f"spoc_sla_policy returned {type(chosen).__name__}, expected SlaPolicy"
                )
            return chosen
        return policy

    def plugin_settings(self, plugin: str, model: type[M]) -> M:
        """The validated settings section of ``plugin`` (see ``spoc_settings_model``)."""
        section = self.host.settings_sections.get(plugin)
        if not isinstance(section, model):
            raise LookupError(f"plugin {plugin!r} has no settings section of type {model.__name__}")
        return section

    def business_add(
        self, start: datetime, duration: timedelta, calendar: str = "default"
    ) -> datetime:
        """``start`` plus ``duration`` of business time on a named calendar (SPOC_CALENDARS)."""
        return self.sla.calendar(calendar).add(start, duration)

    def sweep(self, limit: int | None = None) -> SweepReport:
        """One pass of the sweep (see :mod:`spoc.core.sweep`)."""
        from spoc.core.sweep import Sweeper

        return Sweeper(self).run_once(limit)

    def upgrade_database(self) -> None:
        migrate.upgrade(self.db, self.host)
        # Rows written before bodies were sealed: the schema is the same, the data is not.
        self.outbox.seal_stored_bodies()
        self.schema_checked = True

    def check_database(self) -> None:
        migrate.check_up_to_date(self.db, self.host)
        self.schema_checked = True


def spoc_of(app: Flask | None = None) -> Spoc:
    ext = (app or current_app).extensions[EXTENSION]
    assert isinstance(ext, Spoc)
    return ext


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'spoc.sqlite'}"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    plugin_entry_points: Iterable[EntryPoint] | None = None,
    **overrides: Any,
) -> Flask:
    """Build the Flask app: settings, plugins (from entry points), database, blueprints.

    ``overrides`` are settings given as keyword arguments (``create_app(env="dev")``).
    ``plugin_entry_points`` replaces discovery, for tests that need a particular plugin set.
    Raises :class:`~spoc.core.errors.StartupError` with a one-line explanation on bad
    settings or a broken plugin.
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
        # The cookie never outlives the server-side session it carries (spoc.core.auth).
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

    _install_web(app, spoc)

    @app.before_request
    def _refuse_stale_schema() -> Response | None:
        if spoc.schema_checked:
            return None
        try:
            spoc.check_database()
        except DatabaseNotReadyError as exc:
            return Response(f"SPOC is not ready: {exc}\n", status=503, mimetype="text/plain")
        return None

    return app


def _setting_reader(settings: Settings, name: str) -> Callable[[], str]:
    return lambda: str(getattr(settings, name))


def _install_web(app: Flask, spoc: Spoc) -> None:
    """Blueprints, CSRF, rate limits, template helpers and error pages."""
    from flask import abort, render_template, request
    from flask_wtf.csrf import CSRFError, CSRFProtect
    from werkzeug.exceptions import HTTPException, InternalServerError
    from werkzeug.middleware.proxy_fix import ProxyFix

    from spoc.core import console, portal, web
    from spoc.core.headers import install_security_headers
    from spoc.core.ratelimit import init_rate_limits, limit_endpoint
    from spoc.core.types import Status
    from spoc.core.webinput import (
        BoundedIntConverter,
        FieldRejected,
        SpocJSONProvider,
        SpocRequest,
    )

    settings = spoc.settings
    # Before any blueprint: numbers and JSON are bounded for every view (spoc.core.webinput).
    app.request_class = SpocRequest
    app.json = SpocJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntConverter
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    csrf = CSRFProtect(app)
    install_security_headers(app, settings)
    init_rate_limits(app, settings)
    from spoc.core import api

    csrf.exempt(api.api_bp)  # bearer tokens, not cookies: no cross-site forgery to defend
    app.register_blueprint(api.api_bp)
    _mount_plugin_routes(app, spoc, csrf)
    _mount_plugin_blueprints(app, spoc)
    app.register_blueprint(web.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(console.bp)
    limits = {
        **portal.views.RATE_LIMITED,
        "console.login_submit": "login_limit",
        "console.login_code_submit": "login_limit",
    }
    limits.update(
        {endpoint: "api_limit" for endpoint in app.view_functions if endpoint.startswith("api")}
    )
    limits.update(
        {
            endpoint: "plugin_page_limit"
            for endpoint in app.view_functions
            if endpoint.startswith("plugin_")
        }
    )
    for endpoint, setting in limits.items():
        own = getattr(app.view_functions[endpoint], "spoc_rate_limit", None)
        reader = (lambda value=own: value) if own else _setting_reader(settings, setting)
        limit_endpoint(app, endpoint, reader)

    def requester_label(status: Status | str, type_key: str) -> str:
        request_type = spoc.host.request_types.get(type_key)
        status = Status(status)
        return request_type.label_for(status) if request_type else status.value.title()

    app.jinja_env.globals.update(spoc_reference=spoc.requests.reference, org_name=settings.org_name)
    app.jinja_env.filters["status"] = Status
    app.jinja_env.filters["link_articles"] = _article_linker(spoc)
    app.jinja_env.filters["requester_label"] = requester_label
    app.jinja_env.filters["local_time"] = lambda instant: instant.astimezone(settings.tz).strftime(
        "%a %d %b %H:%M"
    )

    @app.before_request
    def _refuse_long_urls() -> Response | tuple[str, int] | None:
        # Answer 414 ourselves (problem+json on the API) well below gunicorn's request-line
        # limit (4094 bytes), which would answer with its own plain page.
        if len(request.full_path) > MAX_URL_LENGTH:
            abort(414)
        return None

    @app.before_request
    def _refuse_nul_bytes() -> Response | tuple[str, int] | None:
        # No database stores NUL in text (PostgreSQL refuses it outright): say so up front
        # instead of failing deep inside a transaction.
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    message = "Your input contains a character we cannot accept (NUL)."
                    if request.path.startswith("/api/"):
                        from spoc.core.api.base import problem

                        return problem(400, "Bad request", message)
                    return render_template("portal/error.html", message=message), 400
        return None

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        message = (
            "This form has expired or was not sent from our site. Go back, reload and try again."
        )
        return render_template("portal/error.html", message=message), 400

    def _api_problem(exc: HTTPException) -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        from spoc.core.api.base import problem

        extra: dict[str, Any] = {}
        if isinstance(exc, FieldRejected):
            extra["errors"] = [{"field": exc.field, "message": exc.message}]
        response = problem(exc.code or 500, exc.name, exc.description or "", **extra)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # keep Allow on 405
                response.headers[name] = value
        return response

    pages = {
        400: ("We could not do that", "Something in what was sent cannot be used."),
        403: ("Not allowed", "Your role does not allow this. Ask an administrator if you need it."),
        404: ("Not found", "This page does not exist, or the link has expired."),
        405: ("Not allowed", "Not here."),
        413: ("Too large", "What you sent is larger than 2 MB."),
        414: ("Too long", "This address is too long."),
        429: (
            "Slow down",
            "You have sent too many requests in a short time. Please wait a minute and try again.",
        ),
        500: ("Something went wrong", "Something went wrong on our side. Please try again later."),
    }

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
        """Every HTTP error: problem+json on /api/, a page elsewhere (with the field named)."""
        if (api := _api_problem(exc)) is not None:
            return api  # Flask-Limiter adds Retry-After on 429
        code = exc.code or 500
        title, message = pages.get(code, ("We could not do that", exc.description or ""))
        if isinstance(exc, FieldRejected):
            message = f"The field {exc.field!r} {exc.message}."
        page = render_template("portal/error.html", title=title, message=message)
        response = app.make_response((page, code))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(500)
    def _server_error(exc: HTTPException) -> Response | tuple[str, int]:
        return _http_error(exc if isinstance(exc, HTTPException) else InternalServerError())


def _article_linker(spoc: Spoc) -> Callable[[str], Any]:
    """A filter for message bodies: escape everything, then turn links to our own knowledge
    articles (``<base_url>/help/<key>``, as the console offers them for replies) into links.
    Only known article keys on our own address are linked; any other URL stays text."""
    import re

    from markupsafe import Markup, escape

    base = spoc.settings.base_url.rstrip("/")
    pattern = re.compile(re.escape(str(escape(base))) + r"/help/([a-z][a-z0-9_.]*[a-z0-9_])")

    def link(text: str) -> Markup:
        escaped = str(escape(text))

        def replace(found: re.Match[str]) -> str:
            key = found.group(1)
            article = spoc.host.articles.get(key)
            if article is None:
                return found.group(0)
            return f'<a href="/help/{key}">{escape(article.title)}</a>'

        return Markup(pattern.sub(replace, escaped))  # noqa: S704 - input escaped above

    return link


def _mount_plugin_blueprints(app: Flask, spoc: Spoc) -> None:
    """Each plugin's pages under /p/<plugin>/ (``spoc_blueprints``), CSRF-protected."""
    from flask import Blueprint

    for plugin, blueprints in spoc.host.call_each("spoc_blueprints"):
        for bp in blueprints:
            if not isinstance(bp, Blueprint):
                raise PluginError(plugin, "spoc_blueprints must return flask.Blueprint objects")
            suffix = bp.url_prefix or ""
            app.register_blueprint(
                bp, url_prefix=f"/p/{plugin}{suffix}", name=f"plugin_{plugin}_{bp.name}"
            )


def _mount_plugin_routes(app: Flask, spoc: Spoc, csrf: Any) -> None:
    """Each plugin's API routes on a blueprint at /api/v1/<plugin>, in the OpenAPI document."""
    from flask import Blueprint

    from spoc.core.api.base import Operation, ProblemError, _problem, _service_error
    from spoc.core.errors import ServiceError

    operations = app.extensions.setdefault("spoc.api_ops", [])
    for plugin, routes in spoc.host.call_each("spoc_api_routes"):
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
