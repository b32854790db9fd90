"""The stakeholder portal: no account, a private link per request."""

from __future__ import annotations

from flask import Flask

from spoc.core.web.portal import assist as assist
from spoc.core.web.portal import assistant as assistant
from spoc.core.web.portal import rating as rating
from spoc.core.web.portal.views import RATE_LIMITED, bp
from spoc.core.web.ratelimit import limit_by_setting

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the portal; its forms are limited per client by their settings."""
    app.register_blueprint(bp)
    for endpoint, setting in RATE_LIMITED.items():
        limit_by_setting(app, endpoint, setting)
