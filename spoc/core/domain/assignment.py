"""Assignment inside a team: who of its members gets a request (or an escalation) that reaches
the team. ``round_robin`` takes the next member after the last one chosen; ``least_open`` the
member with the fewest open requests (ties by id). Both skip members who are inactive, away
today, or at the team's cap of open requests; with nobody left, the team keeps the request.
Each choice comes with a reason for the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.models import Agent, Request, Team, TeamMember
from spoc.core.domain.routing import away_until, human_date
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.types import Actor, Role, Status

RULES = ("none", "round_robin", "least_open")
RULE_NAMES = {"round_robin": "Round-robin", "least_open": "Fewest open requests"}


@dataclass(frozen=True)
class Pick:
    agent_id: int
    reason: str


def check_rule(rule: str, cap: int | None) -> None:
    """``ValidationFailed`` naming ``assignment`` or ``assignment_cap``."""
    if rule not in RULES:
        raise ValidationFailed("unknown rule", {"assignment": f"one of {', '.join(RULES)}"})
    if cap is not None and not 1 <= cap <= 10_000:
        raise ValidationFailed("bad cap", {"assignment_cap": "between 1 and 10,000, or empty"})


def pick_member(session: Session, team: Team, today: date) -> Pick | None:
    """The member who gets the next request of ``team`` by its rule, or ``None`` (rule
    ``none``, or nobody available). Round-robin moves the team's pointer in the caller's
    transaction, on a row read FOR UPDATE, so two intakes at once never pick the same turn."""
    if team.assignment not in ("round_robin", "least_open"):
        return None
    locked = session.scalar(select(Team).where(Team.id == team.id).with_for_update())
    team = locked or team
    members = list(
        session.scalars(
            select(Agent)
            .join(TeamMember, TeamMember.agent_id == Agent.id)
            .where(TeamMember.team_id == team.id, Agent.active.is_(True))
            .order_by(Agent.id)
        )
    )
    away = away_until(session, [m.id for m in members], today)
    load = dict(
        session.execute(
            select(Request.owner_agent_id, func.count())
            .where(
                Request.owner_agent_id.in_([m.id for m in members]),
                Request.status.in_(sorted(Status.unresolved())),
            )
            .group_by(Request.owner_agent_id)
        ).all()
    )
    skipped = [
        f"{m.name} is away until {human_date(away[m.id], today)}" for m in members if m.id in away
    ]
    cap = team.assignment_cap
    free = [m for m in members if m.id not in away and (cap is None or load.get(m.id, 0) < cap)]
    if not free:
        return None
    if team.assignment == "round_robin":
        after = [
            m
            for m in free
            if team.last_assigned_agent_id is None or m.id > team.last_assigned_agent_id
        ]
        chosen = (after or free)[0]
        team.last_assigned_agent_id = chosen.id
    else:
        chosen = min(free, key=lambda m: (load.get(m.id, 0), m.id))
    rule = RULE_NAMES[team.assignment]
    why = f"{rule} in the {team.name}: {chosen.name} ({load.get(chosen.id, 0)} open)"
    if skipped:
        why += "; " + "; ".join(skipped)
    return Pick(chosen.id, why)


class AssignmentService(ServiceBase):
    """``spoc.assignment``: a team's rule, set by an admin."""

    def set_rule(self, actor: Actor, team_id: int, rule: str, cap: int | None = None) -> Team:
        """Set how the team's requests and escalations get a person (``none``,
        ``round_robin`` or ``least_open``, at most ``cap`` open each); audited."""
        self.require_staff(actor, "administer teams", (Role.ADMIN,))
        check_rule(rule, cap)
        with self.db.transaction() as session:
            team = session.get(Team, team_id)
            if team is None:
                raise NotFoundError(f"no team {team_id}")
            before = {"assignment": team.assignment, "cap": team.assignment_cap}
            after = {"assignment": rule, "cap": cap}
            if before != after:
                record_admin_change(
                    session,
                    actor,
                    AuditAction.TEAM_ASSIGNMENT,
                    "team",
                    team_id,
                    f"Changed how team {team.key} assigns requests",
                    at=self.clock.now(),
                    before=before,
                    after=after,
                )
            team.assignment, team.assignment_cap = rule, cap
            session.flush()
            session.expunge(team)
        return team
