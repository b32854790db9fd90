"""People and structures: agents, teams, subjects with their SPOC and deputies, absences.

Used by the CLI, the demo and the console's admin pages; requests are written only by
:mod:`spoc.core.domain.requests`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from spoc.core.domain.access import may_change_people, private_subject_kind
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.erasure import strip_requests
from spoc.core.domain.models import (
    Absence,
    Agent,
    Contact,
    Request,
    Subject,
    SubjectDeputy,
    Team,
    TeamMember,
)
from spoc.core.domain.requests import subject_info, validation_errors
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.passwords import hash_password
from spoc.core.kernel.types import Actor, ActorKind, Role, SubjectInfo


class DirectoryService(ServiceBase):
    def add_agent(
        self,
        *,
        email: str,
        name: str,
        role: Role | str,
        password: str | None = None,
        actor: Actor | None = None,
    ) -> Agent:
        """A new staff account; ``actor`` is who adds it (the system for the CLI and demo)."""
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
            session.flush()
            record_admin_change(
                session,
                actor or Actor.system(),
                AuditAction.AGENT_ADDED,
                "agent",
                agent.id,
                f"Added {email} as {role.value}",
                at=self.clock.now(),
                after={"email": email, "role": role.value, "active": True},
            )
        return agent

    def subject(self, subject_id: int) -> SubjectInfo | None:
        """A read-only view of one subject (kind, name, reference, attributes)."""
        with self.db.reader() as session:
            return subject_info(session.get(Subject, subject_id))

    def in_team(self, agent_id: int, team_key: str) -> bool:
        """Whether the agent is a member of the team ``team_key`` (a role a plugin models as a
        team, such as an accessibility coordinator)."""
        with self.db.reader() as session:
            found = session.scalar(
                select(TeamMember.agent_id)
                .join(Team, Team.id == TeamMember.team_id)
                .where(Team.key == team_key, TeamMember.agent_id == agent_id)
            )
        return found is not None

    def agent_by_email(self, email: str) -> Agent | None:
        """The staff account with this email address (any case), or ``None``."""
        with self.db.reader() as session:
            return session.scalar(select(Agent).where(Agent.email == email.strip().lower()))

    def add_team(self, *, key: str, name: str, members: Sequence[int] = ()) -> Team:
        """A new team; plugin settings name teams by ``key`` (which must be free)."""
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
        """A new subject of an enabled ``kind``, its SPOC and ordered deputies."""
        if kind not in self.host.subject_kinds:
            raise ValidationFailed(
                "invalid subject",
                {"kind": f"no enabled plugin offers subject kind {kind!r}"},
            )
        if spoc_agent_id is not None and spoc_agent_id in deputies:
            raise ValidationFailed("invalid subject", {"deputies": "the SPOC cannot deputise"})
        if len(set(deputies)) != len(deputies):
            raise ValidationFailed("invalid subject", {"deputies": "listed twice"})
        attributes = self.validate_attributes(kind, attributes or {})
        with self.db.transaction() as session:
            subject = Subject(
                kind=kind,
                name=name,
                external_ref=external_ref,
                attributes=attributes,
                spoc_agent_id=spoc_agent_id,
                created_at=self.clock.now(),
            )
            session.add(subject)
            session.flush()
            for position, agent_id in enumerate(deputies, start=1):
                session.add(
                    SubjectDeputy(subject_id=subject.id, agent_id=agent_id, position=position)
                )
            self._index(session, subject)
        return subject

    def validate_attributes(self, kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """Check ``attributes`` against the subject kind's ``attributes_model``, if it has one."""
        subject_kind = self.host.subject_kinds.get(kind)
        if subject_kind is None or subject_kind.attributes_model is None:
            return dict(attributes)
        try:
            model = subject_kind.attributes_model.model_validate(attributes)
        except ValidationError as exc:
            raise ValidationFailed(
                f"invalid {subject_kind.title.lower()} details",
                validation_errors(exc, "attributes"),
            ) from None
        return model.model_dump(mode="json")

    def update_subject(
        self,
        actor: Actor,
        subject_id: int,
        *,
        name: str | None = None,
        external_ref: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Subject:
        """Change a subject's name, reference or attributes (validated as on creation)."""
        self.require_staff(actor, "change a subject", (Role.ADMIN, Role.AGENT))
        with self.db.transaction() as session:
            subject = session.get(Subject, subject_id)
            if subject is None:
                raise NotFoundError(f"no subject {subject_id}")
            if name is not None:
                if not name.strip():
                    raise ValidationFailed("invalid subject", {"name": "required"})
                subject.name = name.strip()[:200]
            if external_ref is not None:
                subject.external_ref = external_ref.strip() or None
            if attributes is not None:
                subject.attributes = self.validate_attributes(subject.kind, attributes)
            self._index(session, subject)
        return subject

    def _index(self, session: Session, subject: Subject) -> None:
        """Rewrite the subject's search document in this transaction."""
        if self.deps.search is not None:
            self.deps.search.index_subjects(session, [subject])

    def anonymise_subject(
        self, actor: Actor, subject_id: int, *, label: str, keep: dict[str, Any] | None = None
    ) -> int:
        """Strip everything identifying from a subject and the requests about it.

        What stays, for statistics: each request's type, priority, status, timestamps, clocks
        and escalations, and the subject's kind plus the ``keep`` attributes (a birth year, a
        region). What goes: the subject's name, reference and other attributes; each request's
        form fields, summary, messages and timeline wording; its tracking links and the text
        of mails about it; the requester's name, email and phone unless they also have
        requests about other subjects. Runs in batches of 200 requests, each its own
        transaction, so it is safe to run again after an interruption. Returns the number of
        requests anonymised."""
        self.require_staff(actor, "anonymise a subject", (Role.ADMIN,))
        done, after = 0, 0
        while True:
            with self.db.transaction() as session:
                batch = list(
                    session.scalars(
                        select(Request)
                        .where(Request.subject_id == subject_id, Request.id > after)
                        .order_by(Request.id)
                        .limit(200)
                    )
                )
                if not batch:
                    break
                ids = [r.id for r in batch]
                strip_requests(session, batch, self.deps.files, self.deps.search)
                for contact_id in {r.contact_id for r in batch}:
                    elsewhere = session.scalar(
                        select(Request.id)
                        .where(
                            Request.contact_id == contact_id,
                            or_(Request.subject_id.is_(None), Request.subject_id != subject_id),
                        )
                        .limit(1)
                    )
                    if elsewhere is None:
                        session.execute(
                            update(Contact)
                            .where(Contact.id == contact_id)
                            .values(
                                name="Anonymised",
                                email=f"anonymised-{contact_id}@anonymised.invalid",
                                phone=None,
                                attributes={},
                            )
                        )
                        erased = session.get(Contact, contact_id)
                        if self.deps.search is not None and erased is not None:
                            self.deps.search.index_contacts(session, [erased])
                done += len(batch)
                after = ids[-1]
        with self.db.transaction() as session:
            subject = session.get(Subject, subject_id)
            if subject is None:
                raise NotFoundError(f"no subject {subject_id}")
            subject.name = label.strip()[:200] or "Anonymised"
            subject.external_ref = None
            subject.attributes = {**(keep or {}), "anonymised_at": self.clock.now().isoformat()}
            self._index(session, subject)
        return done

    def erase_request_details(self, actor: Actor, request_ids: Sequence[int]) -> int:
        """Strip what was said in some requests (a plugin erasing special-category answers
        after their retention period), keeping the requester and the subject.

        Goes: the form fields, summary, messages, attachments, timeline wording,
        tracking links and the text of mails about them. Stays: type, priority, status,
        timestamps, clocks and escalations. One transaction; returns the number of
        requests erased."""
        self.require_staff(actor, "erase request details", (Role.ADMIN,))
        with self.db.transaction() as session:
            batch = list(session.scalars(select(Request).where(Request.id.in_(list(request_ids)))))
            strip_requests(session, batch, self.deps.files, self.deps.search)
        return len(batch)

    def add_absence(self, agent_id: int, starts_on: date, ends_on: date, note: str = "") -> Absence:
        """The agent is away ``starts_on``..``ends_on``: routing goes to a deputy."""
        if ends_on < starts_on:
            raise ValidationFailed("invalid absence", {"ends_on": "ends before it starts"})
        with self.db.transaction() as session:
            absence = Absence(agent_id=agent_id, starts_on=starts_on, ends_on=ends_on, note=note)
            session.add(absence)
        return absence

    # --- changes made from the console (the actor is checked here, not only in views) ---

    def set_subject_people(
        self, actor: Actor, subject_id: int, spoc_agent_id: int | None, deputies: Sequence[int]
    ) -> Subject:
        """Replace a subject's SPOC and ordered deputies."""
        self.require_staff(actor, "change a subject's SPOC", (Role.ADMIN, Role.AGENT))
        if spoc_agent_id is not None and spoc_agent_id in deputies:
            raise ValidationFailed("invalid people", {"deputies": "the SPOC cannot deputise"})
        if len(set(deputies)) != len(deputies):
            raise ValidationFailed("invalid people", {"deputies": "someone is listed twice"})
        with self.db.transaction() as session:
            subject = session.get(Subject, subject_id)
            if subject is None:
                raise NotFoundError(f"no subject {subject_id}")
            if private_subject_kind(self.host, subject.kind) and not may_change_people(
                session, actor, subject
            ):
                raise PermissionDenied(
                    "only an admin or the subject's SPOC may change the SPOC or deputies"
                    " of a private subject"
                )
            wanted = [a for a in [spoc_agent_id, *deputies] if a is not None]
            usable = set(
                session.scalars(
                    select(Agent.id).where(
                        Agent.id.in_(wanted),
                        Agent.active.is_(True),
                        Agent.role.in_((Role.ADMIN, Role.AGENT)),
                    )
                )
            )
            if set(wanted) - usable:
                raise ValidationFailed(
                    "invalid people", {"deputies": "only active agents can be SPOC or deputy"}
                )
            before = {
                "spoc": subject.spoc_agent_id,
                "deputies": [d.agent_id for d in subject.deputies],
            }
            after = {"spoc": spoc_agent_id, "deputies": list(deputies)}
            if before != after:
                record_admin_change(
                    session,
                    actor,
                    AuditAction.SUBJECT_PEOPLE,
                    "subject",
                    subject.id,
                    f"Changed the SPOC and deputies of subject {subject.id}",
                    at=self.clock.now(),
                    before=before,
                    after=after,
                )
            subject.spoc_agent_id = spoc_agent_id
            subject.deputies.clear()
            session.flush()
            for position, agent_id in enumerate(deputies, start=1):
                subject.deputies.append(
                    SubjectDeputy(subject_id=subject.id, agent_id=agent_id, position=position)
                )
        return subject

    def update_agent(
        self,
        actor: Actor,
        agent_id: int,
        *,
        role: Role | str | None = None,
        active: bool | None = None,
    ) -> Agent:
        """Change an agent's role or activity (admins only, never their own), audited."""
        self.require_staff(actor, "administer agents", (Role.ADMIN,))
        with self.db.transaction() as session:
            agent = session.get(Agent, agent_id)
            if agent is None:
                raise NotFoundError(f"no agent {agent_id}")
            if agent.id == actor.id and (
                active is False or (role and Role(role) is not Role.ADMIN)
            ):
                raise ValidationFailed(
                    "cannot lock yourself out", {"role": "ask another admin to change your account"}
                )
            before = {"role": agent.role.value, "active": agent.active}
            if role is not None:
                try:
                    agent.role = Role(role)
                except ValueError:
                    raise ValidationFailed("invalid role", {"role": f"no role {role!r}"}) from None
            if active is not None:
                agent.active = active
            after = {"role": agent.role.value, "active": agent.active}
            if before != after:
                record_admin_change(
                    session,
                    actor,
                    AuditAction.AGENT_CHANGED,
                    "agent",
                    agent.id,
                    f"Changed the account of {agent.email}",
                    at=self.clock.now(),
                    before=before,
                    after=after,
                )
        return agent

    def set_team_members(self, actor: Actor, team_id: int, agent_ids: Sequence[int]) -> Team:
        """Replace the team's members (admins only), audited."""
        self.require_staff(actor, "administer teams", (Role.ADMIN,))
        with self.db.transaction() as session:
            team = session.get(Team, team_id)
            if team is None:
                raise NotFoundError(f"no team {team_id}")
            known = set(session.scalars(select(Agent.id).where(Agent.id.in_(agent_ids))))
            if known != set(agent_ids):
                raise ValidationFailed("invalid members", {"members": "unknown agent"})
            before = sorted(
                session.scalars(select(TeamMember.agent_id).where(TeamMember.team_id == team_id))
            )
            if before != sorted(known):
                record_admin_change(
                    session,
                    actor,
                    AuditAction.TEAM_MEMBERS,
                    "team",
                    team_id,
                    f"Changed the members of team {team.key}",
                    at=self.clock.now(),
                    before={"members": before},
                    after={"members": sorted(known)},
                )
            session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
            for agent_id in sorted(known):
                session.add(TeamMember(team_id=team_id, agent_id=agent_id))
        return team

    def record_absence(
        self, actor: Actor, agent_id: int, starts_on: date, ends_on: date, note: str = ""
    ) -> Absence:
        """An absence entered by the agent or an admin, audited."""
        self._may_edit_absences(actor, agent_id)
        if ends_on < starts_on:
            raise ValidationFailed("invalid absence", {"ends_on": "ends before it starts"})
        with self.db.transaction() as session:
            absence = Absence(
                agent_id=agent_id, starts_on=starts_on, ends_on=ends_on, note=note.strip()[:200]
            )
            session.add(absence)
            session.flush()
            record_admin_change(
                session,
                actor,
                AuditAction.ABSENCE_ADDED,
                "agent",
                agent_id,
                f"Away from {starts_on.isoformat()} to {ends_on.isoformat()}",
                at=self.clock.now(),
                after=_absence_json(absence),
            )
        return absence

    def remove_absence(self, actor: Actor, absence_id: int) -> None:
        """Delete an absence (the agent or an admin), audited."""
        with self.db.transaction() as session:
            absence = session.get(Absence, absence_id)
            if absence is None:
                raise NotFoundError(f"no absence {absence_id}")
            self._may_edit_absences(actor, absence.agent_id)
            record_admin_change(
                session,
                actor,
                AuditAction.ABSENCE_REMOVED,
                "agent",
                absence.agent_id,
                f"Removed the absence from {absence.starts_on.isoformat()}",
                at=self.clock.now(),
                before=_absence_json(absence),
            )
            session.delete(absence)

    @staticmethod
    def _may_edit_absences(actor: Actor, agent_id: int) -> None:
        if actor.kind is ActorKind.AGENT and (actor.role is Role.ADMIN or actor.id == agent_id):
            return
        raise PermissionDenied("only the agent or an admin can change these absences")


def _absence_json(absence: Absence) -> dict[str, Any]:
    return {
        "id": absence.id,
        "starts_on": absence.starts_on.isoformat(),
        "ends_on": absence.ends_on.isoformat(),
        "note": absence.note,
    }


def spoc_capable_agents(session: Session, limit: int = 200) -> list[Agent]:
    """Active agents who can be a SPOC, deputy or owner, by name (for pickers)."""
    return list(
        session.scalars(
            select(Agent)
            .where(Agent.active.is_(True), Agent.role.in_((Role.ADMIN, Role.AGENT)))
            .order_by(Agent.name)
            .limit(limit)
        )
    )
