"""A project office: a portfolio with two projects; Apollo has two workstreams, Borealis one.

Dana manages Apollo (Lee deputises), Sam manages Borealis. The clock starts on Monday 2 March
2026, 09:00 London; business hours are 09:00-17:00 on weekdays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask

from spoc import Actor, FrozenClock, Request, Spoc, Subject, spoc_of
from spoc.testing import AppFactory
from tests.conftest import Org, build_org

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BUSINESS = {
    "default": {"timezone": "Europe/London", "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}}
}
PLUGINS = ["generic", "projects"]
FULL = {"cost": "green", "scope": "green", "quality": "green", "risk": "green"}


@dataclass
class Office:
    org: Org
    clock: FrozenClock
    portfolio: Subject
    apollo: Subject
    backend: Subject
    frontend: Subject
    borealis: Subject
    fitout: Subject

    @property
    def spoc(self) -> Spoc:
        return self.org.spoc

    def update(self, stream: Subject, period: str, overall: str, **fields: Any) -> Request:
        """A lead files a status update."""
        lead = {"name": stream.attributes["lead_name"], "email": stream.attributes["lead_email"]}
        payload: dict[str, Any] = {
            "period": period,
            "overall": overall,
            "schedule": overall,
            **FULL,
            "percent_complete": 40,
            "done": "Built the thing",
            "next": "Test the thing",
        }
        payload.update(fields)
        return self.spoc.requests.create(
            type_key="projects.status_update",
            fields=payload,
            requester=lead,
            subject_id=stream.id,
        )

    def get(self, request_id: int) -> Request:
        return self.spoc.requests.get(request_id, Actor.system())

    def period(self, project: Subject, label: str) -> Any:
        from spoc.plugins.projects.models import Period

        with self.spoc.db.reader() as session:
            return session.query(Period).filter_by(project_id=project.id, label=label).one()

    def timeline(self, request_id: int) -> list[Any]:
        return self.spoc.requests.timeline(request_id, Actor.system())


def make_office(app: Flask, clock: FrozenClock) -> Office:
    from spoc.plugins.projects.structure import (
        add_person,
        add_portfolio,
        add_project,
        add_workstream,
    )

    spoc = spoc_of(app)
    org = build_org(spoc)
    d = spoc.directory
    d.add_team(key="sponsors", name="Sponsors' office", members=[org.kim.id])
    d.add_team(key="workstream_owners", name="Workstream owners", members=[org.kim.id])
    d.add_team(key="steering_committee", name="Steering committee", members=[org.ada.id])
    portfolio = add_portfolio(spoc, "Digital transformation", manager_id=org.dana.id, code="DX")
    starts = date(2026, 3, 1)
    apollo = add_project(
        spoc,
        "Apollo",
        portfolio_id=portfolio.id,
        manager_id=org.dana.id,
        deputies=[org.lee.id],
        sponsor=("Grace Okafor", "grace@example.com"),
        reporting_starts=starts,
        code="DX-1",
    )
    add_person(spoc, apollo.id, "steering", "Otto Weiss", "otto@example.com")
    backend = add_workstream(
        spoc, "Backend", project_id=apollo.id, lead=("Ivo Marsh", "ivo@example.com")
    )
    frontend = add_workstream(
        spoc, "Frontend", project_id=apollo.id, lead=("Rita Lund", "rita@example.com")
    )
    borealis = add_project(
        spoc,
        "Borealis",
        portfolio_id=portfolio.id,
        manager_id=org.sam.id,
        sponsor=("Henrik Berg", "henrik@example.com"),
        reporting_starts=starts,
        code="DX-2",
    )
    fitout = add_workstream(
        spoc, "Fit-out", project_id=borealis.id, lead=("Ola Dahl", "ola@example.com")
    )
    return Office(org, clock, portfolio, apollo, backend, frontend, borealis, fitout)


@pytest.fixture
def office_app(make_app: AppFactory) -> Flask:
    return make_app(plugins=PLUGINS, calendars=BUSINESS)


@pytest.fixture
def office(office_app: Flask, clock: FrozenClock) -> Office:
    return make_office(office_app, clock)


def escalations(office: Office, request_id: int) -> list[Any]:
    from spoc.core.domain.models import Escalation

    with office.spoc.db.reader() as session:
        return list(session.query(Escalation).filter_by(request_id=request_id).all())


def mails_to(office: Office, address: str) -> list[Any]:
    from spoc.core.domain.models import OutboxMessage

    with office.spoc.db.reader() as session:
        return list(
            session.query(OutboxMessage)
            .filter_by(recipient=address, channel="email")
            .order_by(OutboxMessage.id)
            .all()
        )


def team_key(office: Office, team_id: int) -> str:
    from spoc.core.domain.models import Team

    with office.spoc.db.reader() as session:
        team = session.get(Team, team_id)
        assert team is not None
        return team.key
