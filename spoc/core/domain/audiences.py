"""Who a request's staff notices go to, and the requester's latest mail they thread under.

The notifier asks these once per transaction (its write's ``memo``); a batch of writes made
together (the sweep's clock work) asks them for the whole batch in a few queries
(:func:`prefetch`), so that each write then finds them in the memo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoc.core.domain.models import Agent, InboundMail, Request, RequestWatcher, TeamMember
from spoc.core.kernel.mail import MailOutcome
from spoc.core.storage.bulk import among

THREADED = (MailOutcome.FILED, MailOutcome.THREADED)
"""A requester's mails that belong to a request's thread."""


def owners_key(request: Request) -> tuple[object, ...]:
    return ("owners", request.owner_agent_id, request.owner_team_id)


def team_key(team_id: int) -> tuple[object, ...]:
    return ("team", team_id)


def watchers_key(request_id: int) -> tuple[object, ...]:
    return ("watchers", request_id)


def latest_key(request_id: int) -> tuple[object, ...]:
    return ("latest", request_id)


def owner_addresses(session: Session, request: Request) -> list[str]:
    if request.owner_agent_id is not None:
        agent = session.get(Agent, request.owner_agent_id)
        return [agent.email] if agent is not None and agent.active else []
    if request.owner_team_id is not None:
        return team_addresses(session, [request.owner_team_id])[request.owner_team_id]
    return []


def team_addresses(session: Session, team_ids: Iterable[int]) -> dict[int, list[str]]:
    """The active members' addresses of each team, in address order."""
    found: dict[int, list[str]] = {team_id: [] for team_id in team_ids}
    if not found:
        return found
    rows = session.execute(
        select(TeamMember.team_id, Agent.email)
        .join(TeamMember, TeamMember.agent_id == Agent.id)
        .where(TeamMember.team_id.in_(list(found)), Agent.active.is_(True))
        .order_by(Agent.email)
    )
    for team_id, email in rows:
        found[team_id].append(email)
    return found


def watchers(session: Session, request_ids: Sequence[int]) -> dict[int, list[str]]:
    """The active watchers' addresses of each request."""
    found: dict[int, list[str]] = {request_id: [] for request_id in request_ids}
    if not found:
        return found
    rows = session.execute(
        select(RequestWatcher.request_id, Agent.email)
        .join(RequestWatcher, RequestWatcher.agent_id == Agent.id)
        .where(among(session, RequestWatcher.request_id, request_ids), Agent.active.is_(True))
        .order_by(RequestWatcher.id)
    )
    for request_id, email in rows:
        found[request_id].append(email)
    return found


def latest_inbound(session: Session, request_ids: Sequence[int]) -> dict[int, str]:
    """For each request, the Message-ID of its requester's latest mail (one query), for
    callers mailing many requests at once."""
    if not request_ids:
        return {}
    rows = session.execute(
        select(InboundMail.request_id, func.max(InboundMail.id))
        .where(
            among(session, InboundMail.request_id, request_ids),
            InboundMail.outcome.in_(THREADED),
            InboundMail.message_id.is_not(None),
        )
        .group_by(InboundMail.request_id)
    ).all()
    ids: dict[int, int] = {m: r for r, m in rows if r is not None}
    if not ids:
        return {}
    found = session.execute(
        select(InboundMail.id, InboundMail.message_id).where(
            among(session, InboundMail.id, list(ids))
        )
    ).all()
    return {ids[mail_id]: message_id for mail_id, message_id in found if message_id}


def latest_one(session: Session, request_id: int | None) -> str | None:
    """The Message-ID of the requester's latest mail on one request (one indexed read)."""
    if request_id is None:
        return None
    return session.scalar(
        select(InboundMail.message_id)
        .where(
            InboundMail.request_id == request_id,
            InboundMail.outcome.in_(THREADED),
            InboundMail.message_id.is_not(None),
        )
        .order_by(InboundMail.id.desc())
        .limit(1)
    )


def prefetch(
    session: Session,
    memo: dict[object, Any],
    requests: Sequence[Request],
    team_ids: Iterable[int] = (),
) -> None:
    """Fill ``memo`` with the owners, watchers and latest mail of ``requests`` and the
    members of ``team_ids``, so notices for them ask no further query."""
    ids = [r.id for r in requests]
    agent_ids = {r.owner_agent_id for r in requests if r.owner_agent_id is not None}
    owner_teams = {
        r.owner_team_id for r in requests if r.owner_agent_id is None and r.owner_team_id
    }
    teams = team_addresses(session, {*team_ids, *owner_teams})
    agents: dict[int, str] = {}
    if agent_ids:
        agents = dict(
            session.execute(
                select(Agent.id, Agent.email).where(Agent.id.in_(agent_ids), Agent.active.is_(True))
            ).all()
        )
    for team_id, addresses in teams.items():
        memo[team_key(team_id)] = addresses
    for request in requests:
        if request.owner_agent_id is not None:
            owners = [agents[request.owner_agent_id]] if request.owner_agent_id in agents else []
        elif request.owner_team_id is not None:
            owners = teams[request.owner_team_id]
        else:
            owners = []
        memo[owners_key(request)] = owners
    for request_id, addresses in watchers(session, ids).items():
        memo[watchers_key(request_id)] = addresses
    latest: dict[int, str | None] = defaultdict(lambda: None)
    latest.update(latest_inbound(session, ids))
    for request_id in ids:
        memo[latest_key(request_id)] = latest[request_id]
