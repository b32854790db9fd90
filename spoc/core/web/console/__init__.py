"""The agent console: queues, request detail, subjects, absences, administration."""

from __future__ import annotations

from flask import Flask

from spoc.core.web.console import access as access
from spoc.core.web.console import admin as admin
from spoc.core.web.console import assist as assist
from spoc.core.web.console import audit as audit
from spoc.core.web.console import caller as caller
from spoc.core.web.console import contacts as contacts
from spoc.core.web.console import demo_mail as demo_mail
from spoc.core.web.console import import_jobs as import_jobs
from spoc.core.web.console import knowledge as knowledge
from spoc.core.web.console import mail as mail
from spoc.core.web.console import onboarding as onboarding
from spoc.core.web.console import queues as queues
from spoc.core.web.console import relations as relations
from spoc.core.web.console import reports as reports
from spoc.core.web.console import requests as requests
from spoc.core.web.console import rows as rows
from spoc.core.web.console import search as search
from spoc.core.web.console import sso as sso
from spoc.core.web.console import subjects as subjects
from spoc.core.web.console.auth import bp
from spoc.core.web.ratelimit import limit_by_setting

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the console under ``/console``; sign-in is limited by ``SPOC_LOGIN_LIMIT``."""
    app.register_blueprint(bp)
    for endpoint in ("console.login_submit", "console.login_code_submit"):
        limit_by_setting(app, endpoint, "login_limit")
