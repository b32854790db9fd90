"""Portfolios, projects, workstreams and the people around them.

Each is a core subject (kind, SPOC, attributes validated by the plugin's model) plus a row in
the plugin's tables that indexes the structure. Create them here so both always exist: the core
writes the subject in a transaction of its own, so if the row's transaction does not follow,
calling again with the same details completes the same subject (see :func:`_subject`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from spoc import Spoc, Subject, ValidationFailed
from spoc.plugins.projects.cycle import open_due_periods_of
from spoc.plugins.projects.forms import Cadence
from spoc.plugins.projects.keys import PORTFOLIO, PROJECT, WORKSTREAM
from spoc.plugins.projects.models import Period, Person, Portfolio, Project, Workstream
from spoc.plugins.projects.periods import period_bounds
from spoc.plugins.projects.queries import people, settings_of

ROLES = ("sponsor", "steering", "stakeholder")


def _subject(
    spoc: Spoc,
    *,
    kind: str,
    name: str,
    spoc_agent_id: int | None,
    attributes: dict[str, Any],
    external_ref: str | None = None,
    deputies: list[int] | None = None,
) -> Subject:
    """The core subject of a new portfolio, project or workstream.

    The core writes a subject in a transaction of its own and the plugin's row follows in
    another, so a stop in between leaves a subject without its row (the plugin ignores it: no
    page, rollup or chase reads a subject without a row). Calling again with the same details
    adopts that subject instead of making a second one — or, with a code, instead of failing
    on the code the first attempt took. The same details are the same subject: a call that
    completed already returns it again, and the callers add only the rows that are missing."""
    wanted = spoc.directory.validate_attributes(kind, attributes)
    with spoc.db.reader() as session:
        same = session.scalars(
            select(Subject)
            .where(
                Subject.kind == kind,
                Subject.name == name,
                Subject.external_ref == external_ref
                if external_ref
                else Subject.external_ref.is_(None),
            )
            .order_by(Subject.id)
            .limit(20)
        )
        for found in same:
            if (
                found.attributes == wanted
                and found.spoc_agent_id == spoc_agent_id
                and [d.agent_id for d in found.deputies] == (deputies or [])
            ):
                return found
    return spoc.directory.add_subject(
        kind=kind,
        name=name,
        spoc_agent_id=spoc_agent_id,
        deputies=deputies or [],
        external_ref=external_ref,
        attributes=attributes,
    )


def add_portfolio(
    spoc: Spoc, name: str, *, manager_id: int | None, code: str = "", description: str = ""
) -> Subject:
    subject = _subject(
        spoc,
        kind=PORTFOLIO,
        name=name,
        spoc_agent_id=manager_id,
        external_ref=code or None,
        attributes={"code": code, "description": description},
    )
    with spoc.db.transaction() as session:
        if session.get(Portfolio, subject.id) is None:
            session.add(Portfolio(subject_id=subject.id))
    return subject


def add_project(
    spoc: Spoc,
    name: str,
    *,
    portfolio_id: int,
    manager_id: int | None,
    sponsor: tuple[str, str],
    reporting_starts: date,
    cadence: Cadence | str = Cadence.MONTHLY,
    deadline_business_days: int = 2,
    code: str = "",
    deputies: list[int] | None = None,
    sponsor_team: str | None = None,
) -> Subject:
    """A project whose SPOC is its manager; ``sponsor`` is (name, email). Opens the reporting
    periods that have started."""
    with spoc.db.reader() as session:
        if session.get(Portfolio, portfolio_id) is None:
            raise ValidationFailed("invalid project", {"portfolio_id": "no such portfolio"})
    attributes: dict[str, Any] = {
        "portfolio_id": portfolio_id,
        "code": code,
        "cadence": str(cadence),
        "deadline_business_days": deadline_business_days,
        "reporting_starts": reporting_starts.isoformat(),
        "sponsor_team": sponsor_team,
    }
    subject = _subject(
        spoc,
        kind=PROJECT,
        name=name,
        spoc_agent_id=manager_id,
        deputies=deputies,
        external_ref=code or None,
        attributes=attributes,
    )
    details = subject.attributes
    first, _, _ = period_bounds(Cadence(details["cadence"]), reporting_starts, reporting_starts)
    with spoc.db.transaction() as session:
        if session.get(Project, subject.id) is None:
            session.add(
                Project(
                    subject_id=subject.id,
                    portfolio_id=portfolio_id,
                    cadence=details["cadence"],
                    deadline_days=deadline_business_days,
                    sponsor_team=sponsor_team or settings_of(spoc).sponsor_team,
                    next_period_on=first,
                )
            )
        known = {p.email for p in people(session, subject.id, "sponsor")}
    if sponsor[1].strip().lower() not in known:
        add_person(spoc, subject.id, "sponsor", *sponsor)
    open_due_periods_of(spoc, subject.id)
    return subject


def add_workstream(
    spoc: Spoc,
    name: str,
    *,
    project_id: int,
    lead: tuple[str, str],
    owner_team: str | None = None,
    manager_id: int | None = None,
) -> Subject:
    """A workstream of a project; ``lead`` (name, email) sends its status updates, its owner
    team hears when they do not. Its SPOC is the project's manager unless given."""
    with spoc.db.reader() as session:
        project = session.get(Subject, project_id)
        if project is None or project.kind != PROJECT:
            raise ValidationFailed("invalid workstream", {"project_id": "no such project"})
        spoc_agent_id = manager_id if manager_id is not None else project.spoc_agent_id
    team = owner_team or settings_of(spoc).workstream_owner_team
    subject = _subject(
        spoc,
        kind=WORKSTREAM,
        name=name,
        spoc_agent_id=spoc_agent_id,
        attributes={
            "project_id": project_id,
            "lead_name": lead[0],
            "lead_email": lead[1],
            "owner_team": team,
        },
    )
    with spoc.db.transaction() as session:
        if session.get(Workstream, subject.id) is not None:
            return subject
        session.add(
            Workstream(
                subject_id=subject.id,
                project_id=project_id,
                lead_name=subject.attributes["lead_name"],
                lead_email=subject.attributes["lead_email"],
                owner_team=team,
            )
        )
        # The project's open periods now wait for this workstream too.
        for period in session.scalars(
            select(Period)
            .where(Period.project_id == project_id)
            .order_by(Period.id.desc())
            .limit(3)
        ):
            period.rollup_stale = True
    return subject


def add_person(spoc: Spoc, project_id: int, role: str, name: str, email: str) -> Person:
    if role not in ROLES:
        raise ValidationFailed("invalid person", {"role": f"one of {', '.join(ROLES)}"})
    if not name.strip() or "@" not in email:
        raise ValidationFailed("invalid person", {"email": "a name and an email address"})
    with spoc.db.transaction() as session:
        person = Person(
            project_id=project_id, role=role, name=name.strip()[:200], email=email.strip().lower()
        )
        session.add(person)
    return person
