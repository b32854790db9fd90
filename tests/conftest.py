"""Fixtures: an app per test on a freshly migrated database, SQLite always, PostgreSQL too
when ``SPOC_TEST_DATABASE_URL`` is set.

Migrations run once per backend per session into a template (a SQLite file that is copied for
each test; a PostgreSQL database that is truncated after each test), so every test starts
from a real, fully migrated schema without paying for the migrations every time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from spoc import Actor, FrozenClock, Role, create_app
from spoc.core.domain.models import Agent, Subject, Team
from spoc.core.platform.plugins import installed_entry_points
from spoc.core.services import Spoc, spoc_of

PG_URL = os.environ.get("SPOC_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
ALL_PLUGINS = [ep.name for ep in installed_entry_points()]
# Monday 2 March 2026, 09:00 in London (GMT).
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


TEST_CALENDARS = {"default": {"always_open": True}}


def _migrate(url: str) -> None:
    app = create_app(env="test", database_url=url, plugins=ALL_PLUGINS, calendars=TEST_CALENDARS)
    spoc_of(app).upgrade_database()
    spoc_of(app).db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"spoc_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [
            t for t in inspect(connection).get_table_names() if not t.startswith("alembic_version")
        ]
        if tables:
            quoted = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
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
            _truncate(url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[AppFactory]:
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "plugins": ["generic"],
            "instance_path": tmp_path / "instance",
            "timezone": "Europe/London",
            # Round-the-clock by default, so SLA arithmetic in tests is plain; business
            # calendars have their own tests.
            "calendars": {"default": {"always_open": True}},
        }
        settings.update(overrides)
        app = create_app(clock=clock, **settings)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        spoc_of(app).db.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def spoc(app: Flask) -> Spoc:
    return spoc_of(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass
class Org:
    """A small organisation: a SPOC with two deputies, a specialist team, a desk."""

    spoc: Spoc
    dana: Agent
    lee: Agent
    sam: Agent
    kim: Agent
    val: Agent
    ada: Agent
    specialists: Team
    desk: Team
    account: Subject

    def actor(self, agent: Agent) -> Actor:
        return Actor.agent(agent.id, agent.role, agent.name)

    def file(self, **overrides: Any) -> int:
        payload: dict[str, Any] = {
            "type_key": "generic.question",
            "fields": {"summary": "Where is my invoice?"},
            "requester": {"name": "Maria Anders", "email": "maria@example.com"},
            "subject_id": self.account.id,
        }
        payload.update(overrides)
        return self.spoc.requests.create(**payload).id

    def requester(self, request_id: int) -> Actor:
        request = self.spoc.requests.get(request_id, Actor.system())
        return Actor.requester(request.contact_id, "Maria Anders")


@pytest.fixture
def org(spoc: Spoc) -> Org:
    return build_org(spoc)


def build_org(spoc: Spoc) -> Org:
    d = spoc.directory
    dana = d.add_agent(email="dana@example.org", name="Dana Reyes", role=Role.AGENT)
    lee = d.add_agent(email="lee@example.org", name="Lee Chen", role=Role.AGENT)
    sam = d.add_agent(email="sam@example.org", name="Sam Patel", role=Role.AGENT)
    kim = d.add_agent(email="kim@example.org", name="Kim Novak", role=Role.SPECIALIST)
    val = d.add_agent(email="val@example.org", name="Val Ortiz", role=Role.VIEWER)
    ada = d.add_agent(email="ada@example.org", name="Ada Admin", role=Role.ADMIN)
    specialists = d.add_team(key="specialists", name="Specialist support", members=[kim.id])
    desk = d.add_team(key="desk", name="Service desk", members=[sam.id])
    account = d.add_subject(
        kind="generic.account",
        name="Northwind Traders",
        spoc_agent_id=dana.id,
        deputies=[lee.id, sam.id],
        external_ref="NW-1",
    )
    return Org(spoc, dana, lee, sam, kim, val, ada, specialists, desk, account)


# --- web helpers --------------------------------------------------------------------------

import re  # noqa: E402

from sqlalchemy import update  # noqa: E402

from spoc.core.kernel.passwords import hash_password  # noqa: E402

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH: list[str] = []


def csrf_token(client: FlaskClient, url: str = "/my-requests") -> str:
    """The CSRF token of the client's session, read from a real form."""
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def give_password(spoc: Spoc, agent: Agent) -> None:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))  # argon2 is slow on purpose: hash once
    with spoc.db.transaction() as session:
        session.execute(
            update(Agent).where(Agent.id == agent.id).values(password_hash=_PASSWORD_HASH[0])
        )


def login(client: FlaskClient, spoc: Spoc, agent: Agent) -> None:
    give_password(spoc, agent)
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login", data={"csrf_token": token, "email": agent.email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


# --- a real SMTP server in the test process ---------------------------------------------------

import email.policy  # noqa: E402
import socket  # noqa: E402
from email import message_from_bytes  # noqa: E402
from email.message import EmailMessage  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def link(self, index: int = -1) -> str:
        body = self.messages[index].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found = re.search(r"http://\S+", body)
        assert found
        return found.group(0).removeprefix("http://127.0.0.1:5000")

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server in this process, on a free port of 127.0.0.1."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# --- the authorisation matrix says how many checks it ran ------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import sys

    matrix = sys.modules.get("tests.core.test_authorization_matrix")
    ran = getattr(matrix, "RAN", None)
    if ran:
        failed = [
            r.nodeid
            for r in terminalreporter.stats.get("failed", [])
            if "test_authorization_matrix" in r.nodeid
        ]
        terminalreporter.write_line(
            f"authorization matrix: {len(ran)} checks ran, {len(failed)} failed"
        )
