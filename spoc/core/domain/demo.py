"""Demo data: a small organisation with agents, teams, subjects, an absence and requests.

The core creates people and teams; each enabled plugin adds its subjects and requests through
``spoc_demo_data``, using the same services as real data. Passwords are random per run and
printed once, so no credential lives in the code.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from spoc.core.domain.models import Agent, Subject, Team
from spoc.core.kernel.types import Actor, Role
from spoc.core.platform import hookspecs

if TYPE_CHECKING:
    from spoc.core.domain.escalation import EscalationService
    from spoc.core.domain.requests import RequestService
    from spoc.core.services import Spoc


DEMO_PEOPLE: tuple[tuple[str, str, Role], ...] = (
    ("ada", "Ada Admin", Role.ADMIN),
    ("dana", "Dana Reyes", Role.AGENT),
    ("lee", "Lee Chen", Role.AGENT),
    ("sam", "Sam Patel", Role.AGENT),
    ("kim", "Kim Novak", Role.SPECIALIST),
    ("val", "Val Ortiz", Role.VIEWER),
)
DEMO_DOMAIN = "demo.spoc.invalid"


@dataclass
class DemoContext:
    """Handed to ``spoc_demo_data``: the demo's people, teams and the services to use."""

    spoc: Spoc
    agents: dict[str, Agent] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def requests(self) -> RequestService:
        return self.spoc.requests

    @property
    def escalations(self) -> EscalationService:
        return self.spoc.escalations

    @property
    def today(self) -> date:
        return self.spoc.requests.today()

    def actor(self, key: str) -> Actor:
        agent = self.agents[key]
        return Actor.agent(agent.id, agent.role, agent.name)

    def add_subject(
        self,
        kind: str,
        name: str,
        *,
        spoc: str | None,
        deputies: Sequence[str] = (),
        external_ref: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Subject:
        return self.spoc.directory.add_subject(
            kind=kind,
            name=name,
            spoc_agent_id=self.agents[spoc].id if spoc else None,
            deputies=[self.agents[d].id for d in deputies],
            external_ref=external_ref,
            attributes=attributes,
        )


def seed(spoc: Spoc) -> DemoContext:
    """Fill an empty, migrated database with the demo organisation."""
    demo = DemoContext(spoc)
    for key, name, role in DEMO_PEOPLE:
        password = secrets.token_urlsafe(12)
        demo.agents[key] = spoc.directory.add_agent(
            email=f"{key}@{DEMO_DOMAIN}", name=name, role=role, password=password
        )
        demo.passwords[key] = password
    ids = {k: a.id for k, a in demo.agents.items()}
    demo.teams[spoc.settings.desk_team] = spoc.directory.add_team(
        key=spoc.settings.desk_team, name="Service desk", members=[ids["sam"], ids["lee"]]
    )
    demo.teams["specialists"] = spoc.directory.add_team(
        key="specialists", name="Specialist support", members=[ids["kim"]]
    )
    demo.teams["management"] = spoc.directory.add_team(
        key="management", name="Service management", members=[ids["ada"]]
    )
    # Dana is away this week, so her subjects show deputy cover.
    spoc.directory.add_absence(
        ids["dana"],
        demo.today - timedelta(days=1),
        demo.today + timedelta(days=6),
        "Annual leave",
    )
    spoc.hooks.notify(hookspecs.spoc_demo_data, demo=demo)
    return demo
