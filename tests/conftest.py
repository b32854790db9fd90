"""The project's own fixtures, on top of the plugin authors' kit :mod:`spoc.testing` (its
pytest plugin gives ``make_app``, ``app``, ``spoc``, ``clock``, ``client``, ``runner`` and the
per-test migrated database, SQLite always and PostgreSQL when ``SPOC_TEST_DATABASE_URL`` is
set). What is here: the core's tests run round the clock, a small organisation, the SMTP
server as a ``(mailbox, port)`` pair, and the authorisation matrix's summary line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spoc import Actor, FrozenClock, Role, Spoc
from spoc.core.domain.models import Agent, Subject, Team
from spoc.core.services import spoc_of
from spoc.testing import (
    PASSWORD,
    START,
    AppFactory,
    backends,
    csrf_token,
    free_port,
    give_password,
    smtp_server,
)
from spoc.testing import Mailbox as Inbox
from spoc.testing import sign_in as login
from spoc.testing.database import postgres_url

__all__ = [
    "BACKENDS",
    "PASSWORD",
    "PG_URL",
    "START",
    "TEST_CALENDARS",
    "AppFactory",
    "FrozenClock",
    "Inbox",
    "Org",
    "build_org",
    "csrf_token",
    "free_port",
    "give_password",
    "login",
]

# The backends every database test runs on, and the PostgreSQL server when there is one.
BACKENDS = backends()
PG_URL = postgres_url()

# Round-the-clock by default, so SLA arithmetic in the core's tests is plain; business
# calendars have their own tests (the kit's default is a real Mon-Fri calendar).
TEST_CALENDARS = {"default": {"always_open": True}}


@pytest.fixture
def spoc_app_settings() -> dict[str, Any]:
    return {"calendars": TEST_CALENDARS}


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


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server in this process, on a free port of 127.0.0.1. Tests point their app
    at it themselves (``make_app(smtp_host=..., smtp_port=inbox[1])``)."""
    with smtp_server() as mailbox:
        yield mailbox, mailbox.port


# --- the authorisation matrix says how many checks it ran ------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Counted from the test reports, so the figure is the same with or without xdist workers.
    outcomes = [
        outcome
        for outcome in ("passed", "failed")
        for r in terminalreporter.stats.get(outcome, [])
        if getattr(r, "when", None) == "call"
        and "test_authorization_matrix.py::test_" in r.nodeid
        and "test_the_matrix_is_big_enough" not in r.nodeid
    ]
    if outcomes:
        terminalreporter.write_line(
            f"authorization matrix: {len(outcomes)} checks ran, {outcomes.count('failed')} failed"
        )


@pytest.fixture
def clinic(make_app: AppFactory) -> Org:
    """The test organisation with healthcare (whose types are private) and events enabled."""
    return build_org(spoc_of(make_app(plugins=["generic", "healthcare", "events"])))


def book_for_greta(clinic: Org) -> tuple[Subject, Any]:
    """Greta, a patient with Dana as her SPOC and Lee as deputy, and her cardiology booking: a
    private request only they (and admins) may open."""
    spoc = clinic.spoc
    patient = spoc.directory.add_subject(
        kind="healthcare.patient",
        name="Greta Lindqvist",
        spoc_agent_id=clinic.dana.id,
        deputies=[clinic.lee.id],
        external_ref="MRN-7",
        attributes={"date_of_birth": "1958-04-12", "preferred_language": "en"},
    )
    booked = spoc.requests.create(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Cardiology", "reason": "Palpitations at night"},
        requester={"name": "Greta Lindqvist", "email": "greta@example.com"},
        subject_id=patient.id,
    )
    return patient, booked


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings for running ``spoc`` commands against a scratch SQLite file."""
    return {
        "SPOC_ENV": "dev",
        "SPOC_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
        "SPOC_PLUGINS": "generic",
        "SPOC_INSTANCE_PATH": str(tmp_path / "instance"),
    }
