"""Saved replies: a team's, or one agent's own, inserted into the reply box and counted when
a message using one is sent.

Who sees which: an agent's own replies are theirs alone (no admin reads them); a team's are
its members', and admins manage every team's. Viewers post nothing and get none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from spoc.core.domain.knowledge.templates import check_template, render_template
from spoc.core.domain.models import SavedReply, Team, TeamMember
from spoc.core.domain.reads.detail import RequestDetail
from spoc.core.domain.writes import ServiceDeps
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, ActorKind, Role

MAX_TITLE = 200
MAX_LISTED = 200  # a picker, not a report: the first 200 by title
POSTERS = (Role.ADMIN, Role.AGENT, Role.SPECIALIST)


@dataclass(frozen=True)
class SavedReplyLine:
    """A saved reply as its reader sees it. ``team_name`` is ``None`` for a personal one."""

    id: int
    title: str
    body: str
    team_id: int | None
    team_name: str | None
    owner_agent_id: int | None
    uses: int
    last_used_at: datetime | None

    @property
    def personal(self) -> bool:
        return self.team_id is None


class SavedReplyService:
    def __init__(self, deps: ServiceDeps) -> None:
        self.db = deps.db
        self.clock = deps.clock

    def for_agent(self, actor: Actor) -> list[SavedReplyLine]:
        """The saved replies ``actor`` may use and manage: their own, then their teams' (every
        team's for an admin), by title; at most 200."""
        if not _posts(actor):
            return []
        with self.db.reader() as session:
            rows = session.execute(
                select(SavedReply, Team.name)
                .outerjoin(Team, Team.id == SavedReply.team_id)
                .where(_visible(actor))
                .order_by(SavedReply.team_id.is_not(None), Team.name, SavedReply.title)
                .limit(MAX_LISTED)
            ).all()
        return [_line(reply, team) for reply, team in rows]

    def get(self, reply_id: int, actor: Actor) -> SavedReplyLine:
        """One saved reply ``actor`` may use; ``NotFoundError`` for one they may not see."""
        with self.db.reader() as session:
            reply = self._visible_row(session, reply_id, actor)
            team = session.get(Team, reply.team_id) if reply.team_id else None
            return _line(reply, team.name if team else None)

    def create(
        self, actor: Actor, *, title: str, body: str, team_id: int | None = None
    ) -> SavedReplyLine:
        """A new saved reply: ``actor``'s own, or (``team_id``) their team's — a member's or an
        admin's. The body is checked as a template (``ValidationFailed`` naming ``body``)."""
        title, body = _checked(title, body)
        if not _posts(actor):
            raise PermissionDenied("only staff who write replies keep saved replies")
        now = self.clock.now()
        with self.db.transaction() as session:
            if team_id is not None:
                if session.get(Team, team_id) is None:
                    raise ValidationFailed("unknown team", {"team_id": "no such team"})
                if not _may_manage_team(session, actor, team_id):
                    raise PermissionDenied("only the team's members and admins add its replies")
            reply = SavedReply(
                team_id=team_id,
                owner_agent_id=None if team_id is not None else actor.id,
                title=title,
                body=body,
                uses=0,
                created_at=now,
                updated_at=now,
            )
            session.add(reply)
            session.flush()
            reply_id = reply.id
        return self.get(reply_id, actor)

    def update(self, actor: Actor, reply_id: int, *, title: str, body: str) -> SavedReplyLine:
        """Change a saved reply's title and body (its owner, or its team's members and admins);
        checked as :meth:`create` checks."""
        title, body = _checked(title, body)
        with self.db.transaction() as session:
            reply = self._visible_row(session, reply_id, actor)
            reply.title, reply.body, reply.updated_at = title, body, self.clock.now()
        return self.get(reply_id, actor)

    def delete(self, actor: Actor, reply_id: int) -> None:
        """Remove a saved reply (its owner, or its team's members and admins)."""
        with self.db.transaction() as session:
            session.delete(self._visible_row(session, reply_id, actor))

    def render(self, reply_id: int, actor: Actor, detail: RequestDetail) -> str:
        """The reply's text for the request ``detail`` (as ``actor`` reads it): its variables
        filled in. ``TemplateRefused`` (naming ``body``) when the template cannot be used."""
        reply = self.get(reply_id, actor)
        return render_template(reply.body, template_values(detail, actor))

    def count_use(self, session: Session, reply_id: int | None, actor: Actor) -> bool:
        """Count one use of ``reply_id`` in the caller's write (the message it was used in is
        sent in that transaction). A reply ``actor`` may not see is not counted, and the
        message still goes: answers whether it was counted."""
        if reply_id is None:
            return False
        try:
            reply = self._visible_row(session, reply_id, actor)
        except NotFoundError:
            return False
        reply.uses += 1
        reply.last_used_at = self.clock.now()
        return True

    def _visible_row(self, session: Session, reply_id: int, actor: Actor) -> SavedReply:
        reply = (
            session.scalar(select(SavedReply).where(SavedReply.id == reply_id, _visible(actor)))
            if _posts(actor)
            else None
        )
        if reply is None:
            raise NotFoundError(f"no saved reply {reply_id}")
        return reply


def template_values(detail: RequestDetail, actor: Actor) -> dict[str, dict[str, str]]:
    """What a saved reply may name, for one request as ``actor`` reads it: plain strings, no
    sensitive field (the summary never holds one), the requester's address never."""
    requester = detail.requester.name if detail.requester else ""
    agent = actor.name or ""
    return {
        "requester": {"first_name": _first(requester), "name": requester},
        "request": {
            "reference": detail.reference,
            "summary": detail.summary,
            "type": detail.type_title,
            "status": detail.status_label,
        },
        "spoc": {"name": detail.point_of_contact.name},
        "agent": {"name": agent, "first_name": _first(agent)},
    }


def _first(name: str) -> str:
    return name.split()[0] if name.split() else ""


def _posts(actor: Actor) -> bool:
    return actor.kind is ActorKind.AGENT and actor.role in POSTERS and actor.id is not None


def _visible(actor: Actor) -> ColumnElement[bool]:
    teams = select(TeamMember.team_id).where(TeamMember.agent_id == actor.id)
    team_replies = (
        SavedReply.team_id.is_not(None)
        if actor.role is Role.ADMIN
        else SavedReply.team_id.in_(teams)
    )
    return or_(SavedReply.owner_agent_id == actor.id, team_replies)


def _may_manage_team(session: Session, actor: Actor, team_id: int) -> bool:
    if actor.role is Role.ADMIN:
        return True
    return session.get(TeamMember, {"team_id": team_id, "agent_id": actor.id}) is not None


def _checked(title: str, body: str) -> tuple[str, str]:
    title = title.strip()
    if not title:
        raise ValidationFailed("the saved reply needs a title", {"title": "give it a title"})
    if len(title) > MAX_TITLE:
        raise ValidationFailed("the title is too long", {"title": f"at most {MAX_TITLE}"})
    if "\x00" in body or "\x00" in title:
        raise ValidationFailed("the saved reply cannot be stored", {"body": "no NUL characters"})
    if not body.strip():
        raise ValidationFailed("the saved reply is empty", {"body": "write the reply"})
    check_template(body)
    return title, body


def _line(reply: SavedReply, team_name: str | None) -> SavedReplyLine:
    return SavedReplyLine(
        id=reply.id,
        title=reply.title,
        body=reply.body,
        team_id=reply.team_id,
        team_name=team_name,
        owner_agent_id=reply.owner_agent_id,
        uses=reply.uses,
        last_used_at=reply.last_used_at,
    )
