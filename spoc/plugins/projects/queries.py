"""Reads of the project structure: its settings, people, workstreams and who may manage it.

The reporting cycle, the rollup and the pages read through here; :mod:`.structure` writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc import Actor, NotFoundError, PermissionDenied, Role, Spoc, Subject
from spoc.plugins.projects.keys import PROJECT, WORKSTREAM
from spoc.plugins.projects.models import Person, Project, Workstream
from spoc.plugins.projects.settings import ProjectsSettings


def settings_of(spoc: Spoc) -> ProjectsSettings:
    return spoc.plugin_settings("projects", ProjectsSettings)


def people(session: Session, project_id: int, role: str | None = None) -> list[Person]:
    query = select(Person).where(Person.project_id == project_id)
    if role is not None:
        query = query.where(Person.role == role)
    return list(session.scalars(query.order_by(Person.role, Person.id).limit(100)))


def project_id_of(session: Session, subject: Subject | None) -> int | None:
    """The project a project or workstream subject belongs to."""
    if subject is None:
        return None
    if subject.kind == PROJECT:
        return subject.id
    if subject.kind == WORKSTREAM:
        row = session.get(Workstream, subject.id)
        return row.project_id if row is not None else None
    return None


def workstreams(session: Session, project_id: int, limit: int) -> list[Workstream]:
    return list(
        session.scalars(
            select(Workstream)
            .where(Workstream.project_id == project_id)
            .order_by(Workstream.subject_id)
            .limit(limit)
        )
    )


def may_manage(session: Session, actor: Actor, project_id: int) -> bool:
    """Admins, and the project's manager (its SPOC) or a deputy."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.AGENT:
        return False
    subject = session.get(Subject, project_id)
    if subject is None:
        return False
    return actor.id == subject.spoc_agent_id or any(
        d.agent_id == actor.id for d in subject.deputies
    )


def require_manager(spoc: Spoc, actor: Actor, project_id: int) -> None:
    with spoc.db.reader() as session:
        if session.get(Project, project_id) is None:
            raise NotFoundError(f"no project {project_id}")
        if not may_manage(session, actor, project_id):
            raise PermissionDenied("only the project's manager, a deputy or an admin may do this")
