"""Escalation records: level, target team, reason, trigger — and the hand-back to the SPOC.

Escalating never changes the request's owner: the SPOC keeps the stakeholder-facing voice,
the specialist team answers the SPOC with internal notes and hands back.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from spoc.core.domain.assignment import pick_member
from spoc.core.domain.models import Escalation, EscalationTrigger, Team, TeamMember, Visibility
from spoc.core.domain.writes import ServiceBase, WriteContext
from spoc.core.kernel.durations import (
    BusinessDuration,
    BusinessHours,
    business_duration,
)
from spoc.core.kernel.errors import IllegalTransition, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Role

MAX_LEVEL = 2
LEVEL_NAMES = {1: "specialist team", 2: "authority"}


class EscalationService(ServiceBase):
    def escalate(
        self,
        request_id: int,
        actor: Actor,
        *,
        team_key: str,
        reason: str,
        trigger: str = "manual",
        answer_within: BusinessDuration | None = None,
        expected_version: int | None = None,
    ) -> Escalation:
        """Open an escalation one level above the current one (at most level 2).

        ``answer_within`` is the team's expected answer time (its OLA), a
        :class:`~spoc.BusinessHours` or :class:`~spoc.BusinessDays` on the request's SLA
        calendar (a plain ``timedelta`` is a ``TypeError``); the default is
        ``SPOC_OLA_HOURS``. The SLA engine starts a clock for it."""
        if not reason.strip():
            raise ValidationFailed("say why you escalate", {"reason": "required"})
        if trigger != "manual" and actor.kind is not ActorKind.SYSTEM:
            raise PermissionDenied("only the system escalates with an automatic trigger")
        if answer_within is not None:
            business_duration(answer_within, "answer_within")
        with self.changing(request_id, actor, expected_version) as write:
            self.require_staff(actor, "escalate requests", (Role.ADMIN, Role.AGENT))
            # An automatic escalation is never lost for want of a team: it is created, empty,
            # as the sweep does; staff choose among existing teams.
            automatic = actor.kind is ActorKind.SYSTEM
            team = self.team_by_key(write.session, team_key, create=automatic)
            if team is None:
                raise ValidationFailed("cannot escalate", {"team": f"no team {team_key!r}"})
            escalation = self.open_escalation(write, team, reason, trigger, answer_within)
        return escalation

    def escalate_once(
        self, write: WriteContext, team_key: str, reason: str, trigger: str
    ) -> Escalation | None:
        """Inside an ongoing write, escalate to ``team_key`` unless ``trigger`` already fired
        for this request (or the request is final or at the top level): an automatic cause —
        a breached clock, a plugin's check or verdict — escalates a request once, ever.
        The team is created, empty, if it does not exist, so the escalation is never lost."""
        request = write.request
        if request.status.is_final or request.escalation_level >= MAX_LEVEL:
            return None
        if write.fired(request.id, trigger):
            return None
        write.new(EscalationTrigger, request_id=request.id, trigger=trigger, fired_at=write.now)
        # Once per transaction: the sweep escalates a batch of requests to the same teams.
        team = write.memo.get(("team_key", team_key))
        if team is None:
            team = write.memo[("team_key", team_key)] = self.team_by_key(
                write.session, team_key, create=True
            )
        assert team is not None
        return self.open_escalation(write, team, reason, trigger)

    def open_escalation(
        self,
        write: WriteContext,
        team: Team,
        reason: str,
        trigger: str,
        answer_within: BusinessDuration | None = None,
    ) -> Escalation:
        """Open the next level inside an ongoing write (manual, SLA breach, plugin trigger)."""
        request, actor = write.request, write.actor
        if request.status.is_final:
            raise IllegalTransition(f"{self.reference(request.id)} is {request.status.value}")
        if request.escalation_level >= MAX_LEVEL:
            raise IllegalTransition(
                f"{self.reference(request.id)} is already at the highest escalation level"
            )
        level = request.escalation_level + 1
        ola = answer_within or BusinessHours(self.settings.ola_hours)
        picked = pick_member(write.session, team, self.today())
        escalation = write.new_with_id(  # the request row itself is not dirty yet
            Escalation,
            request_id=request.id,
            level=level,
            from_agent_id=actor.id if actor.kind is ActorKind.AGENT else None,
            to_team_id=team.id,
            to_agent_id=picked.agent_id if picked is not None else None,
            reason=reason.strip(),
            trigger=trigger,
            opened_at=write.now,
        )
        request.escalation_level = level
        write.answer_within[escalation.id] = ola
        write.record(
            "escalated",
            f"Escalated to {team.name} (level {level}, {LEVEL_NAMES[level]}): {reason.strip()}",
            {
                "escalation_id": escalation.id,
                "level": level,
                "to_team_id": team.id,
                "reason": reason.strip(),
                "trigger": trigger,
            },
            visibility=Visibility.INTERNAL,
        )
        if picked is not None:
            write.record(
                "escalation_assigned",
                picked.reason,
                {"escalation_id": escalation.id, "to_agent_id": picked.agent_id},
                visibility=Visibility.INTERNAL,
                by=Actor.system("Assignment"),
            )
        return escalation

    def hand_back(
        self,
        request_id: int,
        actor: Actor,
        *,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Escalation:
        """Close the highest open escalation; the request drops to the next open level."""
        with self.changing(request_id, actor, expected_version) as write:
            if actor.kind is ActorKind.REQUESTER or actor.role is Role.VIEWER:
                raise PermissionDenied(f"a {actor.role_name} may not hand back escalations")
            open_ones = list(
                write.session.scalars(
                    select(Escalation)
                    .where(Escalation.request_id == request_id, Escalation.handed_back_at.is_(None))
                    .order_by(Escalation.level.desc(), Escalation.id.desc())
                )
            )
            if not open_ones:
                raise IllegalTransition(f"{self.reference(request_id)} has no open escalation")
            escalation = open_ones[0]
            if actor.role is Role.SPECIALIST and not write.session.scalar(
                select(
                    exists().where(
                        TeamMember.team_id == escalation.to_team_id,
                        TeamMember.agent_id == actor.id,
                    )
                )
            ):
                raise PermissionDenied("only the escalation's team or the SPOC can hand it back")
            escalation.handed_back_at = write.now
            escalation.answered_at = escalation.answered_at or write.now
            escalation.handed_back_by_agent_id = actor.id if actor.kind is ActorKind.AGENT else None
            remaining = max((e.level for e in open_ones[1:]), default=0)
            write.request.escalation_level = remaining
            write.record(
                "handed_back",
                f"Handed back from level {escalation.level}"
                + (f": {note.strip()}" if note else ""),
                {"escalation_id": escalation.id, "level": remaining, "note": note},
                visibility=Visibility.INTERNAL,
            )
        return escalation
