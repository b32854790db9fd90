"""Who acts for a subject today: the SPOC, else the first deputy who is not away, else the desk.

The reason is written for people; it goes into the timeline verbatim ("Dana Reyes is away
until 3 March; routed to deputy Lee Chen").
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.models import Absence, Agent, Subject
from spoc.core.kernel.types import Routing


def human_date(day: date, today: date) -> str:
    text = f"{day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


def away_until(session: Session, agent_ids: list[int], on: date) -> dict[int, date]:
    """For each agent away on ``on``, the last day of that absence (one indexed query)."""
    if not agent_ids:
        return {}
    rows = session.execute(
        select(Absence.agent_id, Absence.ends_on).where(
            Absence.agent_id.in_(agent_ids), Absence.starts_on <= on, Absence.ends_on >= on
        )
    )
    until: dict[int, date] = {}
    for agent_id, ends_on in rows:
        until[agent_id] = max(ends_on, until.get(agent_id, ends_on))
    return until


def acting_spoc(
    session: Session,
    subject: Subject | None,
    on: date,
    desk_team: str,
    away: dict[int, date] | None = None,
) -> Routing:
    """The acting SPOC for ``subject`` on the organisation-local date ``on``. ``away``: the
    absences of the agents concerned, when the caller looked them up for many subjects at
    once (:func:`away_until`)."""
    desk = f"the {desk_team} team"
    if subject is None:
        return Routing(None, desk_team, f"No subject linked; routed to {desk} for triage")
    spoc = subject.spoc
    deputies = [d.agent for d in subject.deputies]
    if spoc is None and not deputies:
        return Routing(None, desk_team, f"{subject.name} has no SPOC; routed to {desk}")

    candidates = ([spoc] if spoc is not None else []) + deputies
    if away is None:
        away = away_until(session, [a.id for a in candidates], on)
    notes: list[str] = []

    def unavailable(agent: Agent) -> str | None:
        if not agent.active:
            return f"{agent.name} is inactive"
        if agent.id in away:
            return f"{agent.name} is away until {human_date(away[agent.id], on)}"
        return None

    if spoc is not None:
        why = unavailable(spoc)
        if why is None:
            return Routing(spoc.id, None, f"{spoc.name} is the SPOC for {subject.name}")
        notes.append(why)
    else:
        notes.append(f"{subject.name} has no SPOC")

    for deputy in deputies:
        why = unavailable(deputy)
        if why is None:
            notes.append(f"routed to deputy {deputy.name}")
            return Routing(
                deputy.id,
                None,
                "; ".join(notes),
                covering_for=spoc.id if spoc is not None else None,
                until=away.get(spoc.id) if spoc is not None else None,
            )
        notes.append(why.replace(f"{deputy.name}", f"deputy {deputy.name}", 1))
    notes.append(f"no deputy available; routed to {desk}")
    return Routing(None, desk_team, "; ".join(notes))
