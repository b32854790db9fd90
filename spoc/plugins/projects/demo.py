"""Demo: a portfolio of three projects over six monthly periods — Apollo with a milestone that
keeps slipping, Borealis with a workstream that stopped reporting, Cygnus gone Red."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from spoc import DemoContext
from spoc.plugins.projects.forms import Cadence
from spoc.plugins.projects.keys import DECISION, RISK, UPDATE
from spoc.plugins.projects.models import Period
from spoc.plugins.projects.queries import settings_of
from spoc.plugins.projects.reports import publish
from spoc.plugins.projects.structure import add_portfolio, add_project, add_workstream

PERIODS = 6
# (project, manager, sponsor, [(workstream, lead, [overall per period, None = no update])])
PLAN: list[
    tuple[str, str, tuple[str, str], list[tuple[str, tuple[str, str], list[str | None]]]]
] = [
    (
        "Apollo: CRM replacement",
        "lee",
        ("Grace Okafor", "grace.okafor@example.com"),
        [
            ("Data migration", ("Ivo Marsh", "ivo.marsh@example.com"), ["green"] * 6),
            (
                "Integration",
                ("Rita Lund", "rita.lund@example.com"),
                ["green", "green", "amber", "amber", "green", "amber"],
            ),
        ],
    ),
    (
        "Borealis: office move",
        "sam",
        ("Henrik Berg", "henrik.berg@example.com"),
        [
            (
                "Fit-out",
                ("Ola Dahl", "ola.dahl@example.com"),
                ["green", "green", "green", "green", None, None],
            ),
            ("IT and network", ("Mei Tan", "mei.tan@example.com"), ["green"] * 6),
        ],
    ),
    (
        "Cygnus: payments platform",
        "dana",
        ("Amara Diallo", "amara.diallo@example.com"),
        [
            (
                "Core ledger",
                ("Tom Reyes", "tom.reyes@example.com"),
                ["green", "amber", "amber", "red", "red", "red"],
            ),
            (
                "Compliance",
                ("Lina Noor", "lina.noor@example.com"),
                ["green", "green", "amber", "amber", "amber", "red"],
            ),
        ],
    ),
]


def _months_back(day: date, months: int) -> date:
    first = day.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def add_demo_data(demo: DemoContext) -> None:
    spoc = demo.spoc
    settings = settings_of(spoc)
    members = [demo.agents["ada"].id]
    for key, title in (
        (settings.sponsor_team, "Sponsors' office"),
        (settings.workstream_owner_team, "Workstream owners"),
        (settings.steering_team, "Steering committee"),
        (settings.board_team, "Change board"),
    ):
        if key not in demo.teams:
            demo.teams[key] = spoc.directory.add_team(key=key, name=title, members=members)
    # Six periods: five closed, the sixth the current month.
    starts = _months_back(demo.today, PERIODS - 1)
    portfolio = add_portfolio(
        spoc, "Digital transformation", manager_id=demo.agents["lee"].id, code="DX"
    )
    for index, (name, manager, sponsor, streams) in enumerate(PLAN):
        project = add_project(
            spoc,
            name,
            portfolio_id=portfolio.id,
            manager_id=demo.agents[manager].id,
            sponsor=sponsor,
            reporting_starts=starts,
            cadence=Cadence.MONTHLY,
            code=f"DX-{index + 1}",
        )
        with spoc.db.reader() as session:
            labels = list(
                session.scalars(
                    select(Period.label)
                    .where(Period.project_id == project.id)
                    .order_by(Period.starts_on)
                )
            )
        for stream_name, lead, rags in streams:
            stream = add_workstream(spoc, stream_name, project_id=project.id, lead=lead)
            for number, (label, rag) in enumerate(zip(labels, rags, strict=False)):
                if rag is None:
                    continue
                _file_update(demo, stream.id, lead, label, rag, number, stream_name)
        if index == 2:
            _risks_and_decisions(demo, project.id, sponsor)
        if index == 0 and len(labels) > 1:
            with spoc.db.reader() as session:
                previous = session.scalar(
                    select(Period.id).where(
                        Period.project_id == project.id, Period.label == labels[-2]
                    )
                )
            if previous is not None:
                publish(spoc, demo.actor("lee"), previous)
    # Chase what is missing, remind and escalate what is overdue, as the worker would.
    spoc.sweep()
    spoc.sweep()


def _file_update(
    demo: DemoContext,
    stream_id: int,
    lead: tuple[str, str],
    label: str,
    rag: str,
    number: int,
    stream_name: str,
) -> None:
    milestones: list[dict[str, Any]] = []
    if stream_name == "Integration":
        # The go-live's baseline stays; its forecast slips two weeks every period.
        go_live = _months_back(demo.today, PERIODS - 1) + timedelta(days=150)
        milestones.append(
            {
                "name": "Go-live",
                "baseline": go_live.isoformat(),
                "forecast": (go_live + timedelta(days=14 * number)).isoformat(),
            }
        )
    fields = {
        "period": label,
        "summary": f"{stream_name}: {rag} for {label}",
        "overall": rag,
        "schedule": rag,
        "cost": "green",
        "scope": "green",
        "quality": "amber" if rag == "red" else "green",
        "risk": rag,
        "percent_complete": min(100, 15 * (number + 1)),
        "milestones": milestones,
        "done": f"Work planned for {label} on {stream_name}.",
        "next": "Continue with the plan.",
        "blockers": "Vendor API not stable" if rag == "red" else "",
    }
    demo.requests.create(
        type_key=UPDATE,
        fields=fields,
        requester={"name": lead[0], "email": lead[1]},
        subject_id=stream_id,
    )


def _risks_and_decisions(demo: DemoContext, project_id: int, sponsor: tuple[str, str]) -> None:
    soon, later, overdue = ((demo.today + timedelta(days=n)).isoformat() for n in (20, 90, -2))
    filed: list[tuple[str, dict[str, Any]]] = [
        (
            RISK,
            {
                "summary": "Card scheme certification may slip past launch",
                "cause": "The certification lab is fully booked",
                "event": "Certification is not granted before the launch date",
                "effect": "Launch is delayed by at least a month",
                "probability": 4,
                "impact": 5,
                "proximity": soon,
                "owner": "Lina Noor",
                "response_plan": "Book a second lab",
            },
        ),
        (
            RISK,
            {
                "summary": "Key engineer leaving",
                "cause": "Contract ends",
                "event": "Knowledge is lost",
                "effect": "Slower fixes",
                "probability": 2,
                "impact": 3,
                "proximity": later,
                "owner": "Tom Reyes",
            },
        ),
        (
            DECISION,
            {
                "summary": "Choose the fallback acquirer",
                "severity": "high",
                "owner": "Tom Reyes",
                "decider": sponsor[0],
                "needed_by": overdue,
                "options": "Acquirer A (cheaper) or B (faster)",
            },
        ),
    ]
    for type_key, fields in filed:
        demo.requests.create(
            type_key=type_key,
            fields=fields,
            requester={"name": sponsor[0], "email": sponsor[1]},
            subject_id=project_id,
        )
