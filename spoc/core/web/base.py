"""What every page and API answer shares: bounded input, CSRF, security headers, rate limits,
template helpers and error pages (problem+json under ``/api/``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from spoc.core.kernel.types import Status
from spoc.core.services import Spoc
from spoc.core.storage.keyset import CursorRejected
from spoc.core.web.api.base import problem
from spoc.core.web.headers import install_security_headers
from spoc.core.web.ratelimit import init_rate_limits
from spoc.core.web.webinput import (
    BoundedIntConverter,
    FieldRejected,
    SpocJSONProvider,
    SpocRequest,
    cursor_rejected,
)

MAX_URL_LENGTH = 2048  # path and query string, in characters


def init_app(app: Flask, spoc: Spoc) -> CSRFProtect:
    """Install the shared pieces; call before any blueprint is registered. Returns the CSRF
    extension, for the API to exempt its bearer-token blueprints."""
    settings = spoc.settings
    # Before any blueprint: numbers and JSON are bounded for every view (spoc.core.web.webinput).
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
        for where, values in (("query", request.args), ("form", request.form)):
            for key, value in values.items(multi=True):
                # A malformed multipart part may come without a name or a value.
                if "\x00" in str(key or "") or "\x00" in str(value or ""):
                    message = "Your input contains a character we cannot accept (NUL)."
                    if request.path.startswith("/api/"):
                        named = str(key or "").replace("\x00", "")
                        errors = [{"field": f"{where}.{named}", "message": "contains NUL"}]
                        return problem(400, "Bad request", message, errors=errors)
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
        # A console page keeps the console's navigation, so a refused agent is never stranded.
        template = (
            "console/error.html" if request.path.startswith("/console") else "portal/error.html"
        )
        page = render_template(template, title=title, message=message)
        response = app.make_response((page, code))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(CursorRejected)
    def _cursor_rejected(exc: CursorRejected) -> Response | tuple[str, int]:
        """A list's cursor that the list did not make, in any view (a plugin's too): a 400
        page naming the field, or a 422 problem naming it on the API."""
        if request.path.startswith("/api/"):
            errors = [{"field": exc.field, "message": exc.message}]
            return problem(422, "Validation failed", str(exc), errors=errors)
        return _http_error(cursor_rejected(exc))

    @app.errorhandler(500)
    def _server_error(exc: HTTPException) -> Response | tuple[str, int]:
        return _http_error(exc if isinstance(exc, HTTPException) else InternalServerError())

    return csrf


def _article_linker(spoc: Spoc) -> Callable[[str], Any]:
    """A filter for message bodies: escape everything, then turn links to our own knowledge
    articles (``<base_url>/help/<key>``, as the console offers them for replies) into links.
    Only known article keys on our own address are linked; any other URL stays text."""
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
