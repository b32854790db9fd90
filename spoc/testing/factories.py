"""Factories for the people and things a test needs, with defaults a test may leave out.

Each call makes a new row through the same services the console and the API use, so what a
factory makes is what a real deployment would hold. Names and emails are numbered per test.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from spoc.core.domain.models import Agent, Contact, Request, Subject, Team
from spoc.core.kernel.types import Actor, Role
from spoc.core.services import Spoc


class Factories:
    """``factories.agent()``, ``.team()``, ``.subject()``, ``.contact()``, ``.request()``."""

    def __init__(self, spoc: Spoc) -> None:
        self.spoc = spoc
        self._numbers = itertools.count(1)

    def _next(self) -> int:
        return next(self._numbers)

    def agent(
        self,
        *,
        role: Role | str = Role.AGENT,
        name: str | None = None,
        email: str | None = None,
    ) -> Agent:
        """A staff member (``Role.AGENT`` unless told) with no password; sign them in with the
        ``console_client`` fixture's agent or ``spoc.testing.sign_in``."""
        n = self._next()
        return self.spoc.directory.add_agent(
            email=email or f"agent{n}@example.org",
            name=name or f"Agent {n}",
            role=role,
        )

    def team(
        self, *, key: str | None = None, name: str | None = None, members: Sequence[Agent] = ()
    ) -> Team:
        """A team; a plugin's settings name teams by ``key``."""
        n = self._next()
        return self.spoc.directory.add_team(
            key=key or f"team{n}", name=name or f"Team {n}", members=[a.id for a in members]
        )

    def subject(
        self,
        *,
        kind: str = "generic.account",
        name: str | None = None,
        spoc_agent: Agent | None = None,
        deputies: Sequence[Agent] = (),
        external_ref: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Subject:
        """What a SPOC is accountable for; ``kind`` must be offered by an enabled plugin.
        Without ``spoc_agent`` a new agent becomes its SPOC."""
        n = self._next()
        spoc_agent = spoc_agent or self.agent()
        return self.spoc.directory.add_subject(
            kind=kind,
            name=name or f"Subject {n}",
            spoc_agent_id=spoc_agent.id,
            deputies=[a.id for a in deputies],
            external_ref=external_ref,
            attributes=attributes,
        )

    def contact(self, *, name: str | None = None, email: str | None = None) -> Contact:
        """A stakeholder who can file requests (the portal's requester)."""
        n = self._next()
        with self.spoc.db.transaction() as session:
            contact = Contact(
                email=(email or f"contact{n}@example.com").lower(),
                name=name or f"Contact {n}",
                phone=None,
                language="en",
                attributes={},
                created_at=self.spoc.clock.now(),
            )
            session.add(contact)
        return contact

    def request(
        self,
        *,
        type_key: str = "generic.question",
        fields: Mapping[str, Any] | None = None,
        subject: Subject | None = None,
        requester: Contact | Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> Request:
        """A request filed through intake (validation, triage, routing, SLA clocks, hooks).

        Without ``fields`` a ``generic.question`` gets a summary; other types need theirs.
        Without ``requester`` a new contact files it."""
        if fields is None:
            fields = {"summary": f"Question {self._next()}"}
        if requester is None:
            requester = self.contact()
        details = (
            {"name": requester.name, "email": requester.email}
            if isinstance(requester, Contact)
            else dict(requester)
        )
        return self.spoc.requests.create(
            type_key=type_key,
            fields=fields,
            requester=details,
            subject_id=subject.id if subject is not None else None,
            actor=actor,
        )
