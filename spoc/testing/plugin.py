"""The pytest plugin of :mod:`spoc.testing`, registered through the ``pytest11`` entry point:
installing ``spoc`` makes these fixtures available to every test, no import needed.

Override ``spoc_app_settings`` in a ``conftest.py`` to enable a plugin and set its settings::

    @pytest.fixture
    def spoc_app_settings() -> dict[str, object]:
        return {"plugins": ["generic", "facilities"]}
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from spoc.core.app import create_app
from spoc.core.domain.models import Agent
from spoc.core.domain.outbox import DeliveryReport
from spoc.core.domain.sweep import SweepReport
from spoc.core.kernel.clock import FrozenClock
from spoc.core.kernel.types import Role
from spoc.core.services import Spoc, spoc_of
from spoc.testing import database
from spoc.testing.cli import run_cli
from spoc.testing.factories import Factories
from spoc.testing.imap import DovecotUnavailable, ImapAccount, ImapServer, dovecot_server
from spoc.testing.mail import Mailbox, smtp_server
from spoc.testing.settings import START, test_settings
from spoc.testing.web import ApiToken, issue_api_token, sign_in

AppFactory = Callable[..., Flask]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    database.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database migrated once per session, dropped at the end."""
    server = database.postgres_url()
    if server is None:
        pytest.skip(f"{database.TEST_DATABASE_URL_ENV} is not set")
    with database.scratch_postgres_database(server) as url:
        yield url


@pytest.fixture(params=database.backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database for this test; the test runs once per backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "spoc.sqlite"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
    else:
        url: str = request.getfixturevalue("postgres_database")
        try:
            yield url
        finally:
            database.truncate(url)


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock, frozen at :data:`spoc.testing.START`; ``clock.advance(...)`` moves it."""
    return FrozenClock(START)


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    """Settings for every app of the test, over the kit's defaults. Override to enable your
    plugin: ``{"plugins": ["generic", "mine"], "plugin_settings": {"mine": {...}}}``."""
    return {}


class AppMaker:
    """``make_app(**settings)``: an app on this test's database and clock. Keyword arguments
    override ``spoc_app_settings``, which override the kit's defaults (``test_settings``)."""

    def __init__(
        self,
        request: pytest.FixtureRequest,
        database_url: str,
        clock: FrozenClock,
        instance_path: Path,
        app_settings: dict[str, Any],
    ) -> None:
        self.request = request
        self.database_url = database_url
        self.clock = clock
        self.instance_path = instance_path
        self.app_settings = app_settings
        self.apps: list[Flask] = []

    def __call__(self, **overrides: Any) -> Flask:
        settings = test_settings(self.database_url, self.instance_path)
        settings.update(self.app_settings)
        if "mail" in self.request.fixturenames and "smtp_host" not in {**settings, **overrides}:
            mailbox: Mailbox = self.request.getfixturevalue("mail")
            settings.update(smtp_host="127.0.0.1", smtp_port=mailbox.port)
        settings.update(overrides)
        app = create_app(clock=self.clock, **settings)
        app.config["TESTING"] = True
        self.apps.append(app)
        return app

    def latest(self) -> Flask:
        """The app made last in this test (one with no overrides if none was made yet)."""
        return self.apps[-1] if self.apps else self()

    def close(self) -> None:
        for app in self.apps:
            spoc_of(app).db.dispose()


@pytest.fixture
def make_app(
    request: pytest.FixtureRequest,
    database_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    spoc_app_settings: dict[str, Any],
) -> Iterator[AppMaker]:
    """``make_app(**settings)``: an app on this test's database and clock; keyword arguments
    override ``spoc_app_settings`` and the defaults (see :func:`spoc.testing.test_settings`)."""
    maker = AppMaker(request, database_url, clock, tmp_path / "instance", spoc_app_settings)
    yield maker
    maker.close()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The test's app (``make_app()`` with no overrides)."""
    return make_app()


@pytest.fixture
def spoc(app: Flask) -> Spoc:
    """The app's services, as plugins receive them in hooks."""
    return spoc_of(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser nobody has signed in on."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Flask's CLI runner for the app."""
    return app.test_cli_runner()


@pytest.fixture
def factories(spoc: Spoc) -> Factories:
    """Make agents, teams, subjects, contacts and requests with sensible defaults."""
    return Factories(spoc)


@pytest.fixture
def admin_agent(factories: Factories) -> Agent:
    """An administrator: the agent of ``console_client`` and ``api_token``."""
    return factories.agent(role=Role.ADMIN, name="Ada Admin", email="ada.admin@example.org")


@pytest.fixture
def console_client(app: Flask, spoc: Spoc, admin_agent: Agent) -> FlaskClient:
    """A browser signed in on the console as ``admin_agent``."""
    browser = app.test_client()
    sign_in(browser, spoc, admin_agent)
    return browser


@pytest.fixture
def api_token(spoc: Spoc, admin_agent: Agent) -> ApiToken:
    """A REST API bearer token acting as ``admin_agent``; pass ``headers=api_token.headers``."""
    return issue_api_token(spoc, admin_agent)


@pytest.fixture
def mail() -> Iterator[Mailbox]:
    """Outgoing mail, captured by a real SMTP server in this process. Asking for it points
    the test's apps at that server (unless a test sets ``smtp_host`` itself)."""
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """A real IMAP server (dovecot) for the test session. Where dovecot is missing, the tests
    asking for it fail in CI (``CI`` set) and are skipped elsewhere, saying why."""
    try:
        with dovecot_server() as server:
            yield server
    except DovecotUnavailable as exc:
        missing_server(str(exc))


def missing_server(reason: str) -> NoReturn:
    """A real server a test needs is not installed: a failure in CI (a skipped suite proves
    nothing), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run these tests")
    pytest.skip(f"{reason}; CI installs it (.ci/run)")


@pytest.fixture
def imap_account(imap_server: ImapServer) -> ImapAccount:
    """A fresh, empty mailbox on :func:`imap_server`; ``append(raw)`` files a message."""
    return imap_server.new_account()


@pytest.fixture
def deliver_mail(spoc: Spoc) -> Callable[[], DeliveryReport]:
    """``deliver_mail()``: send what the outbox holds that is due, as ``spoc worker`` does."""
    return spoc.outbox.deliver_due


@pytest.fixture
def run_sweep(spoc: Spoc, clock: FrozenClock) -> Callable[..., SweepReport]:
    """``run_sweep(after=timedelta(hours=4))``: move the clock on (if told), run one sweep pass
    (SLA breaches, escalations, watches) and deliver the mail it queued."""

    def sweep(after: timedelta | None = None, *, limit: int | None = None) -> SweepReport:
        if after is not None:
            clock.advance(after)
        report = spoc.sweep(limit)
        spoc.outbox.deliver_due()
        return report

    return sweep


@pytest.fixture
def spoc_cli(make_app: AppMaker) -> Callable[..., Result]:
    """``spoc_cli("facilities", "work-orders")``: the ``spoc`` command as an operator runs it,
    with the settings of the test's latest app (its database, plugins, instance folder)."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        spoc = spoc_of(make_app.latest())
        return run_cli(spoc, *args, input=input, env=env, runner=CliRunner())

    return invoke
