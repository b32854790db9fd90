"""Portfolios, projects and workstreams created from the console's forms, a CSV or the API.

The core writes the subject; these structures add the plugin's row in the same transaction
(``spoc_structures``), so a project imported there is a project here too: it reports from its
first period (opened by the next sweep pass) and its sponsor is on record. The subject's
attributes (``forms.ProjectDetails`` …) stay the source of the row's values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Saved, Structure, StructureItem, ValidationFailed
from spoc.plugins.projects.forms import Cadence
from spoc.plugins.projects.keys import PORTFOLIO, PROJECT, WORKSTREAM
from spoc.plugins.projects.models import Period, Person, Portfolio, Project, Workstream
from spoc.plugins.projects.periods import period_bounds
from spoc.plugins.projects.queries import people, settings_of


class NoFields(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectSponsor(BaseModel):
    """Who sponsors a project: required when the project is new, added when another."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    sponsor_name: str = Field(default="", max_length=200, description="The sponsor's name")
    sponsor_email: EmailStr | None = Field(default=None, description="The sponsor's email")


def _portfolio(item: StructureItem) -> Saved:
    session: Session = item.session
    found = session.get(Portfolio, item.subject_id) if item.subject_id else None
    if not item.check_only and found is None:
        session.add(Portfolio(subject_id=item.subject_id))
    return Saved.UPDATED if found is not None else Saved.CREATED


def _project(item: StructureItem) -> Saved:
    session: Session = item.session
    details = item.attributes
    fields = item.fields
    assert isinstance(fields, ProjectSponsor)
    portfolio_id = details["portfolio_id"]
    if session.get(Portfolio, portfolio_id) is None:
        raise ValidationFailed("invalid project", {"portfolio_id": "no such portfolio"})
    row = session.get(Project, item.subject_id) if item.subject_id else None
    if row is None and (not fields.sponsor_email or not fields.sponsor_name):
        raise ValidationFailed(
            "invalid project",
            {"sponsor_email": "a new project needs its sponsor's name and email"},
        )
    if row is not None and row.cadence != details["cadence"]:
        raise ValidationFailed(
            "invalid project", {"cadence": f"stays {row.cadence} once reporting has begun"}
        )
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    team = details.get("sponsor_team") or settings_of(item.spoc).sponsor_team
    if row is None:
        starts = date.fromisoformat(details["reporting_starts"])
        first, _, _ = period_bounds(Cadence(details["cadence"]), starts, starts)
        session.add(
            Project(
                subject_id=item.subject_id,
                portfolio_id=portfolio_id,
                cadence=details["cadence"],
                deadline_days=details["deadline_business_days"],
                sponsor_team=team,
                next_period_on=first,
            )
        )
    else:
        row.portfolio_id = portfolio_id
        row.deadline_days = details["deadline_business_days"]
        row.sponsor_team = team
    assert item.subject_id is not None
    if fields.sponsor_email:
        email = str(fields.sponsor_email).lower()
        if email not in {p.email for p in people(session, item.subject_id, "sponsor")}:
            name = fields.sponsor_name or email
            session.add(Person(project_id=item.subject_id, role="sponsor", name=name, email=email))
    return Saved.CREATED if row is None else Saved.UPDATED


def _workstream(item: StructureItem) -> Saved:
    session: Session = item.session
    details = item.attributes
    project = session.get(Project, details["project_id"])
    if project is None:
        raise ValidationFailed("invalid workstream", {"project_id": "no such project"})
    row = session.get(Workstream, item.subject_id) if item.subject_id else None
    if item.check_only:
        return Saved.UPDATED if row is not None else Saved.CREATED
    team = details.get("owner_team") or settings_of(item.spoc).workstream_owner_team
    if row is not None:
        row.project_id = project.subject_id
        row.lead_name, row.lead_email = details["lead_name"], details["lead_email"]
        row.owner_team = team
        return Saved.UPDATED
    session.add(
        Workstream(
            subject_id=item.subject_id,
            project_id=project.subject_id,
            lead_name=details["lead_name"],
            lead_email=details["lead_email"],
            owner_team=team,
        )
    )
    # The project's open periods now wait for this workstream too (as add_workstream does).
    for period in session.scalars(
        select(Period)
        .where(Period.project_id == project.subject_id)
        .order_by(Period.id.desc())
        .limit(3)
    ):
        period.rollup_stale = True
    return Saved.CREATED


def _sponsor_values(session: Session, subject_id: int) -> Mapping[str, Any]:
    sponsors = people(session, subject_id, "sponsor")
    if not sponsors:
        return {}
    return {"sponsor_name": sponsors[0].name, "sponsor_email": sponsors[0].email}


def structures() -> list[Structure]:
    return [
        Structure("projects.portfolio", "Portfolio", NoFields, _portfolio, subject_kind=PORTFOLIO),
        Structure(
            "projects.project",
            "Project",
            ProjectSponsor,
            _project,
            subject_kind=PROJECT,
            values=_sponsor_values,
            description="Its reporting row; its sponsor, by name and email.",
        ),
        Structure(
            "projects.workstream", "Workstream", NoFields, _workstream, subject_kind=WORKSTREAM
        ),
    ]
