"""The test kit for SPOC plugins: pytest fixtures and helpers.

Installing ``spoc`` registers the fixtures with pytest (entry point ``pytest11``), so a
plugin's tests use them without importing anything::

    def test_a_repair_goes_to_the_building_manager(factories):
        manager = factories.agent()
        building = factories.subject(kind="facilities.building", spoc_agent=manager)
        request = factories.request(
            type_key="facilities.repair",
            fields={"summary": "Door handle loose", "location": "Room 204"},
            subject=building,
        )
        assert request.owner_agent_id == manager.id

The fixtures (see docs/testing-plugins.md): ``spoc_app_settings`` (override it), ``make_app``,
``app``, ``spoc``, ``clock``, ``database_url``, ``client``, ``runner``, ``factories``,
``admin_agent``, ``console_client``, ``api_token``, ``mail``, ``imap_server``,
``imap_account``, ``deliver_mail``,
``run_sweep`` and ``spoc_cli``. The names below are what a test may import.
"""

from __future__ import annotations

from spoc.testing.checks import applied_migrations, sla_due, table_names
from spoc.testing.cli import run_cli
from spoc.testing.database import backends
from spoc.testing.factories import Factories
from spoc.testing.imap import ImapAccount, ImapServer, dovecot_server
from spoc.testing.mail import Mailbox, free_port, smtp_server
from spoc.testing.plugin import AppFactory
from spoc.testing.settings import BUSINESS_CALENDARS, START, test_settings
from spoc.testing.web import PASSWORD, ApiToken, csrf_token, give_password, issue_api_token, sign_in

__all__ = [
    "BUSINESS_CALENDARS",
    "PASSWORD",
    "START",
    "ApiToken",
    "AppFactory",
    "Factories",
    "ImapAccount",
    "ImapServer",
    "Mailbox",
    "applied_migrations",
    "backends",
    "csrf_token",
    "dovecot_server",
    "free_port",
    "give_password",
    "issue_api_token",
    "run_cli",
    "sign_in",
    "sla_due",
    "smtp_server",
    "table_names",
    "test_settings",
]
