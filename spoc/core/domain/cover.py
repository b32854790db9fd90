"""Cover for open requests: accountability that survives an absence.

When an agent's absence begins (the sweep sees it: ``absences.cover_started_at IS NULL`` and
the start has come, an index range), each open request they own gets an acting owner — the
subject's first available deputy (the same rule as intake: :func:`acting_spoc`), else the desk
— and its requester is told once, "Lee Chen covers for Dana Reyes until 3 March". The owner
*is* the cover while it lasts, so messages and notifications go to them. When the absence
ends, the requests the cover still holds go back (``SPOC_COVER_RETURNS``).

Set-based, because one absence can hold thousands of requests: per page of 500 requests one
UPDATE per cover, one INSERT … SELECT of their timeline events, one bulk insert of the
requesters' mails; each page is one transaction, and a page done is never redone (the
requests are no longer the absent agent's). A crash between pages resumes at the next pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, func, insert, literal, select, update
from sqlalchemy.orm import Session, load_only, selectinload

from spoc.core.domain.assignment import pick_member
from spoc.core.domain.models import (
    Absence,
    Agent,
    Contact,
    Request,
    Subject,
    Team,
    TeamMember,
    TimelineEvent,
    Visibility,
)
from spoc.core.domain.notifications import Notifier
from spoc.core.domain.outbox import enqueue_rows
from spoc.core.domain.routing import acting_spoc, away_until, human_date
from spoc.core.domain.writes import ServiceBase, ServiceDeps
from spoc.core.kernel.types import ActorKind, Status
from spoc.core.storage.bulk import among
from spoc.core.storage.keyset import Ordering, Page, Pager

PAGE = 500
ABSENCES_PER_PASS = 20
UNRESOLVED = sorted(Status.unresolved())
COVER = "Cover"


@dataclass(frozen=True)
class AwayLine:
    """One absence now or soon, and who holds the agent's requests meanwhile."""

    absence_id: int
    agent_id: int
    agent_name: str
    starts_on: date
    ends_on: date
    covers: tuple[tuple[str, int], ...]  # (who, open requests they cover)


AWAY = Ordering("console:away", Absence.starts_on, Absence.id)


@dataclass
class CoverReport:
    started: int = 0  # absences whose cover started (all their requests covered)
    ended: int = 0
    covered: int = 0  # requests given a cover
    returned: int = 0  # requests given back

    def __str__(self) -> str:
        return (
            f"cover: {self.covered} requests covered ({self.started} absences), "
            f"{self.returned} returned ({self.ended} absences)"
        )


class CoverService(ServiceBase):
    def __init__(self, deps: ServiceDeps, *, notifier: Notifier, pager: Pager) -> None:
        super().__init__(deps)
        self.notifier = notifier
        self.pager = pager

    def run(self, limit: int = 10_000) -> CoverReport:
        """One pass: start the covers of absences that began, end those that ended; at most
        ``limit`` requests moved (the rest at the next pass)."""
        report = CoverReport()
        today = self.today()
        with self.db.reader() as session:
            starting = list(
                session.scalars(
                    select(Absence)
                    .where(
                        Absence.cover_started_at.is_(None),
                        Absence.starts_on <= today,
                        Absence.ends_on >= today,
                    )
                    .order_by(Absence.id)
                    .limit(ABSENCES_PER_PASS)
                )
            )
            ending = list(
                session.scalars(
                    select(Absence)
                    .where(
                        Absence.cover_started_at.is_not(None),
                        Absence.cover_ended_at.is_(None),
                        Absence.ends_on < today,
                    )
                    .order_by(Absence.id)
                    .limit(ABSENCES_PER_PASS)
                )
            )
        for absence in starting:
            if report.covered >= limit:
                break
            done = self._start(absence, today, limit - report.covered, report)
            if done:
                report.started += 1
        for absence in ending:
            if report.returned >= limit:
                break
            if self._end(absence, limit - report.returned, report):
                report.ended += 1
        return report

    def overview(
        self, *, days: int = 14, cursor: str | None = None, limit: int = 50
    ) -> Page[AwayLine]:
        """Who is away today or in the next ``days`` days, and who covers their open requests
        (one grouped, indexed count per absence), a page at a time."""
        today = self.today()
        with self.db.reader() as session:
            page = self.pager.page(
                session,
                select(Absence, Agent.name)
                .join(Agent, Agent.id == Absence.agent_id)
                .where(Absence.ends_on >= today, Absence.starts_on <= today + timedelta(days=days)),
                AWAY,
                limit=limit,
                cursor=cursor,
            )
            lines = []
            for absence, name in page.items:
                rows = session.execute(
                    select(Agent.name, Team.name, func.count())
                    .select_from(Request)
                    .outerjoin(Agent, Agent.id == Request.owner_agent_id)
                    .outerjoin(Team, Team.id == Request.owner_team_id)
                    .where(
                        Request.covering_for_agent_id == absence.agent_id,
                        Request.status.in_(UNRESOLVED),
                    )
                    .group_by(Agent.name, Team.name)
                    .order_by(func.count().desc())
                ).all()
                lines.append(
                    AwayLine(
                        absence.id,
                        absence.agent_id,
                        name,
                        absence.starts_on,
                        absence.ends_on,
                        tuple((agent or f"The {team}", n) for agent, team, n in rows),
                    )
                )
        return Page(lines, page.next, page.previous)

    # --- the absence begins -----------------------------------------------------------------

    def _start(self, absence: Absence, today: date, budget: int, report: CoverReport) -> bool:
        """Cover the absent agent's open requests, a page per transaction; ``True`` once none
        is left (the absence is then marked, so it is never looked at again)."""
        while budget > 0:
            with self.db.transaction() as session:
                page = session.execute(
                    select(Request.id, Request.subject_id)
                    .where(
                        Request.owner_agent_id == absence.agent_id,
                        Request.status.in_(UNRESOLVED),
                    )
                    # No order: every page leaves the agent, so any 500 will do, and ordering
                    # by id made PostgreSQL walk the primary key past a million others.
                    .limit(min(PAGE, budget))
                ).all()
                if not page:
                    session.execute(
                        update(Absence)
                        .where(Absence.id == absence.id)
                        .values(cover_started_at=self.clock.now())
                    )
                    return True
                self._cover_page(session, absence, today, [(r, s) for r, s in page])
            report.covered += len(page)
            budget -= len(page)
        return False

    def _cover_page(
        self,
        session: Session,
        absence: Absence,
        today: date,
        page: Sequence[tuple[int, int | None]],
    ) -> None:
        absent = session.get(Agent, absence.agent_id)
        assert absent is not None
        until = human_date(absence.ends_on, today)
        by_subject: dict[int | None, list[int]] = defaultdict(list)
        for request_id, subject_id in page:
            by_subject[subject_id].append(request_id)
        # The page's subjects with their deputies, and every absence that matters, at once.
        subjects = {
            s.id: s
            for s in session.scalars(
                select(Subject)
                .where(Subject.id.in_([i for i in by_subject if i is not None]))
                .options(selectinload(Subject.deputies), selectinload(Subject.spoc))
            )
        }
        people = {a for s in subjects.values() for a in [s.spoc_agent_id] if a is not None}
        people |= {d.agent_id for s in subjects.values() for d in s.deputies}
        away = away_until(session, sorted(people), today)
        groups: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
        names: dict[tuple[int | None, int | None], str] = {}
        # Where no deputy can act: the absent agent's team that assigns by a rule, if any.
        ruled = session.scalar(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.agent_id == absent.id, Team.assignment != "none")
            .order_by(Team.id)
            .limit(1)
        )
        for subject_id, ids in by_subject.items():
            subject = subjects.get(subject_id) if subject_id is not None else None
            routing = acting_spoc(session, subject, today, self.settings.desk_team, away)
            agent_id = routing.agent_id if routing.agent_id != absent.id else None
            team_id = None
            if agent_id is None and ruled is not None:
                left = []
                for request_id in ids:  # one turn each, by the team's rule
                    pick = pick_member(session, ruled, today)
                    if pick is None:
                        left.append(request_id)
                        continue
                    chosen = session.get(Agent, pick.agent_id)
                    groups[(pick.agent_id, None)].append(request_id)
                    names[(pick.agent_id, None)] = chosen.name if chosen else "Your new contact"
                ids = left
                if not ids:
                    continue
            if agent_id is None:
                desk = self.team_by_key(session, self.settings.desk_team, create=True)
                assert desk is not None
                team_id, name = desk.id, f"The {desk.name}"
            else:
                cover = session.get(Agent, agent_id)
                name = cover.name if cover is not None else "Your new contact"
            groups[(agent_id, team_id)].extend(ids)
            names[(agent_id, team_id)] = name
        now = self.clock.now()
        for (agent_id, team_id), ids in groups.items():
            summary = f"{names[(agent_id, team_id)]} covers for {absent.name} until {until}"
            session.execute(
                update(Request)
                .where(among(session, Request.id, ids))
                .values(
                    owner_agent_id=agent_id,
                    owner_team_id=team_id,
                    covering_for_agent_id=absent.id,
                    cover_until=absence.ends_on,
                    version=Request.version + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            self._record(session, ids, "assigned", summary, agent_id, team_id)
            self._tell_requesters(session, ids, summary)

    # --- the absence ends -------------------------------------------------------------------

    def _end(self, absence: Absence, budget: int, report: CoverReport) -> bool:
        returns = self.settings.cover_returns
        while budget > 0:
            with self.db.transaction() as session:
                ids = list(
                    session.scalars(
                        select(Request.id)
                        .where(
                            Request.covering_for_agent_id == absence.agent_id,
                            Request.cover_until <= absence.ends_on,
                        )
                        .order_by(Request.id)
                        .limit(min(PAGE, budget))
                    )
                )
                if not ids:
                    session.execute(
                        update(Absence)
                        .where(Absence.id == absence.id)
                        .values(cover_ended_at=self.clock.now())
                    )
                    return True
                agent = session.get(Agent, absence.agent_id)
                back = returns and agent is not None and agent.active
                open_ids = list(
                    session.scalars(
                        select(Request.id).where(
                            among(session, Request.id, ids), Request.status.in_(UNRESOLVED)
                        )
                    )
                )
                values: dict[str, object] = {"covering_for_agent_id": None, "cover_until": None}
                if back and open_ids:
                    session.execute(
                        update(Request)
                        .where(among(session, Request.id, open_ids))
                        .values(
                            owner_agent_id=absence.agent_id,
                            owner_team_id=None,
                            version=Request.version + 1,
                            updated_at=self.clock.now(),
                        )
                        .execution_options(synchronize_session=False)
                    )
                    assert agent is not None
                    self._record(
                        session,
                        open_ids,
                        "assigned",
                        f"{agent.name} is back; the request is theirs again",
                        agent.id,
                        None,
                    )
                session.execute(
                    update(Request)
                    .where(among(session, Request.id, ids))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            report.returned += len(open_ids) if back else 0
            budget -= len(ids)
        return False

    # --- shared -----------------------------------------------------------------------------

    def _record(
        self,
        session: Session,
        ids: Sequence[int],
        kind: str,
        summary: str,
        agent_id: int | None,
        team_id: int | None,
    ) -> None:
        """One timeline event on each request, in one INSERT … SELECT (seq: the next)."""
        next_seq = (
            select(func.coalesce(func.max(TimelineEvent.seq), 0) + 1)
            .where(TimelineEvent.request_id == Request.id)
            .scalar_subquery()
        )
        data = {"to_agent_id": agent_id, "to_team_id": team_id, "cover": True}
        rows = select(
            Request.id,
            next_seq,
            literal(kind),
            literal(Visibility.PUBLIC, TimelineEvent.__table__.c.visibility.type),
            literal(ActorKind.SYSTEM, TimelineEvent.__table__.c.actor_kind.type),
            literal(None, Integer),
            literal(COVER),
            literal(summary[:500]),
            literal(data, TimelineEvent.__table__.c.data.type),
            literal(self.clock.now(), TimelineEvent.__table__.c.at.type),
        ).where(among(session, Request.id, ids))
        session.execute(
            insert(TimelineEvent).from_select(
                [
                    "request_id",
                    "seq",
                    "kind",
                    "visibility",
                    "actor_kind",
                    "actor_id",
                    "actor_name",
                    "summary",
                    "data",
                    "at",
                ],
                rows,
            )
        )

    def _tell_requesters(self, session: Session, ids: Sequence[int], summary: str) -> None:
        """Each requester told once who their contact is now (private types: that there is
        an update, as every notice for them)."""
        rows = session.execute(
            select(Request, Contact.name, Contact.email)
            .join(Contact, Contact.id == Request.contact_id)
            .where(among(session, Request.id, ids))
            # A notice needs the id (reference, thread, reply address) and the type (private?).
            .options(load_only(Request.id, Request.type_key, raiseload=True))
        ).all()
        latest = self.notifier.latest_inbound(session, ids)
        mails: list[dict[str, Any]] = []
        for request, name, email in rows:
            self.notifier.requester_notice(
                session, request, email, name, summary, latest=latest.get(request.id), into=mails
            )
        enqueue_rows(session, mails)
