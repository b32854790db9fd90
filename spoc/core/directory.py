"""People and structures: agents, teams, subjects with their SPOC and deputies, absences.

Used by the CLI, the demo and (later) the console's admin pages; requests are written only by
:mod:`spoc.core.requests`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from spoc.core.errors import ValidationFailed
from spoc.core.models import Absence, Agent, Subject, SubjectDeputy, Team, TeamMember
from spoc.core.passwords import hash_password
from spoc.core.types import Role
from spoc.core.writes import ServiceBase


class DirectoryService(ServiceBase):
    def add_agent(
        self, *, email: str, name: str, role: Role | str, password: str | None = None
    ) -> Agent:
        email = email.strip().lower()
        if "@" not in email:
            raise ValidationFailed("invalid agent", {"email": "not an email address"})
        if not name.strip():
            raise ValidationFailed("invalid agent", {"name": "required"})
        try:
            role = Role(role)
        except ValueError:
            raise ValidationFailed(
                "invalid agent", {"role": f"one of {', '.join(r.value for r in Role)}"}
            ) from None
        try:
            password_hash = hash_password(password) if password else None
        except ValueError as exc:
            raise ValidationFailed("invalid agent", {"password": str(exc)}) from None
        with self.db.transaction() as session:
            if session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
                raise ValidationFailed("invalid agent", {"email": f"{email} already exists"})
            agent = Agent(
                email=email,
                name=name.strip(),
                role=role,
                password_hash=password_hash,
                active=True,
                created_at=self.clock.now(),
            )
            session.add(agent)
        return agent

    def add_team(self, *, key: str, name: str, members: Sequence[int] = ()) -> Team:
        with self.db.transaction() as session:
            if self.team_by_key(session, key) is not None:
                raise ValidationFailed("invalid team", {"key": f"team {key!r} already exists"})
            team = Team(key=key, name=name, description="")
            session.add(team)
            session.flush()
            for agent_id in members:
                session.add(TeamMember(team_id=team.id, agent_id=agent_id))
        return team

    def add_subject(
        self,
        *,
        kind: str,
        name: str,
        spoc_agent_id: int | None,
        deputies: Sequence[int] = (),
        external_ref: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Subject:
        if kind not in self.host.subject_kinds:
            raise ValidationFailed(
                "invalid subject",
                {"kind": f"no enabled plugin offers subject kind {kind!r}"},
            )
        if spoc_agent_id is not None and spoc_agent_id in deputies:
            raise ValidationFailed("invalid subject", {"deputies": "the SPOC cannot deputise"})
        if len(set(deputies)) != len(deputies):
            raise ValidationFailed("invalid subject", {"deputies": "listed twice"})
        with self.db.transaction() as session:
            subject = Subject(
                kind=kind,
                name=name,
                external_ref=external_ref,
                attributes=attributes or {},
                spoc_agent_id=spoc_agent_id,
                created_at=self.clock.now(),
            )
            session.add(subject)
            session.flush()
            for position, agent_id in enumerate(deputies, start=1):
                session.add(
                    SubjectDeputy(subject_id=subject.id, agent_id=agent_id, position=position)
                )
        return subject

    def add_absence(self, agent_id: int, starts_on: date, ends_on: date, note: str = "") -> Absence:
        if ends_on < starts_on:
            raise ValidationFailed("invalid absence", {"ends_on": "ends before it starts"})
        with self.db.transaction() as session:
            absence = Absence(agent_id=agent_id, starts_on=starts_on, ends_on=ends_on, note=note)
            session.add(absence)
        return absence
