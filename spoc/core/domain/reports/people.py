"""The metrics about people: who carries the open requests and who is away, what requesters
thought (CSAT), and how often the knowledge base answered instead of a request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import false, func, select, true

from spoc.core.domain.models import (
    Absence,
    Agent,
    ArticleFeedbackDay,
    Feedback,
    Request,
    RequestFact,
)
from spoc.core.domain.reports.cube import RATED, DayRow
from spoc.core.domain.reports.filters import in_days
from spoc.core.domain.reports.metrics import Metrics, share, total
from spoc.core.kernel.reports import Cell, Figure, Headline, ReportSection, ReportTable, Unit
from spoc.core.kernel.types import Status

F = RequestFact
COMMENTS = 20
"""How many of the latest comments the CSAT section lists (the export has them all)."""
UNRESOLVED = (Status.NEW, Status.OPEN, Status.WAITING)


def load(metrics: Metrics, today: date) -> ReportSection:
    session, chosen = metrics.session, metrics.filter
    open_now = [F.is_open == true(), *chosen.narrowing()]
    accountable = dict(
        session.execute(
            select(F.owner_agent_id, func.count())
            .where(*open_now, F.owner_agent_id.is_not(None))
            .group_by(F.owner_agent_id)
        ).all()
    )
    # Cover is live state, not a fact: who holds whose requests right now. Only the covering
    # index is read ("> 0" is its range: the requests covered now, whatever their status),
    # and the unresolved ones are counted here, so no planner prefers the status index.
    with_deputy: dict[int | None, int] = {}
    covering: dict[int | None, int] = {}
    for covered_agent, holder, status in session.execute(
        select(Request.covering_for_agent_id, Request.owner_agent_id, Request.status).where(
            Request.covering_for_agent_id > 0
        )
    ):
        if status in UNRESOLVED:
            with_deputy[covered_agent] = with_deputy.get(covered_agent, 0) + 1
            covering[holder] = covering.get(holder, 0) + 1
    away = session.execute(
        select(Agent.id, Agent.name, Absence.ends_on)
        .join(Absence, Absence.agent_id == Agent.id)
        .where(Absence.starts_on <= today, Absence.ends_on >= today)
        .order_by(Agent.name, Agent.id)
    ).all()
    ids = {i for i in (*accountable, *with_deputy, *covering) if i is not None}
    names = dict(session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids))).all())
    rows: list[list[Cell]] = [
        [
            names.get(agent_id, f"agent {agent_id}"),
            Figure.count(int(accountable.get(agent_id, 0))),
            Figure.count(int(with_deputy.get(agent_id, 0))),
            Figure.count(int(covering.get(agent_id, 0))),
        ]
        for agent_id in sorted(ids, key=lambda i: (names.get(i, ""), i))
    ]
    covered_now = sum(int(n) for n in with_deputy.values())
    return ReportSection(
        "load",
        "SPOC load and cover",
        (
            Headline(
                "Open requests with a SPOC", Figure.count(sum(int(n) for n in accountable.values()))
            ),
            Headline("Covered by deputies now", Figure.count(covered_now)),
            # Staff, not requests: a count of people away is never a hidden cell.
            Headline("Away today", Figure(len(away), max(len(away), 3), Unit.COUNT)),
        ),
        (
            ReportTable(
                "load-by-spoc",
                "Open requests per SPOC",
                ("SPOC", "Open (accountable)", "With a deputy now", "Covering for others now"),
                rows,
                chart="bars",
                text="Open requests each SPOC is accountable for, and the cover in place today.",
            ),
            ReportTable(
                "away-now",
                "Who is away now",
                ("Agent", "Back after"),
                [[name, ends_on.isoformat()] for _, name, ends_on in away],
                text=f"{len(away)} agents are away today.",
            ),
        ),
        note="Cover figures are as of now, for every request type.",
    )


def csat(metrics: Metrics, reference: Callable[[int], str]) -> ReportSection:
    session, chosen = metrics.session, metrics.filter
    previous = chosen.previous()

    now_rated, before_rated = metrics.rows(RATED), metrics.rows(RATED, previous)

    def rated(rows: list[DayRow], stars: int) -> int:
        return sum(getattr(row, f"rated_{stars}") for row in rows)

    def average(rows: list[DayRow]) -> Figure:
        n = total(rows)
        points = sum(stars * rated(rows, stars) for stars in range(1, 6))
        return Figure(points / n if n else None, n, Unit.RATING)

    resolved = total(metrics.resolved())
    resolved_before = total(metrics.resolved(previous))
    spread = {stars: rated(now_rated, stars) for stars in range(1, 6)}
    rated_now = [in_days(F.rated_day, chosen.period), F.rating.is_not(None), *chosen.narrowing()]
    comments = session.execute(
        select(F.request_id, F.rating, Feedback.comment)
        .join(Feedback, Feedback.request_id == F.request_id)
        .where(*rated_now, F.private == false(), Feedback.comment != "")
        .order_by(F.rated_day.desc(), F.request_id.desc())
        .limit(COMMENTS)
    ).all()
    summaries = dict(
        session.execute(
            select(Request.id, Request.summary).where(Request.id.in_([c[0] for c in comments]))
        ).all()
    )
    return ReportSection(
        "csat",
        "Customer satisfaction (CSAT)",
        (
            Headline("Average rating (1 to 5)", average(now_rated), average(before_rated)),
            Headline("Ratings given", Figure.count(total(now_rated))),
            Headline(
                "Response rate",
                share(total(now_rated), resolved),
                share(total(before_rated), resolved_before),
            ),
        ),
        (
            ReportTable(
                "csat-distribution",
                "Ratings",
                ("Rating", "Ratings"),
                [[f"{r} of 5", Figure.count(int(spread.get(r, 0)))] for r in range(5, 0, -1)],
                chart="bars",
                text="How many requesters gave each rating in the period.",
            ),
            ReportTable(
                "csat-comments",
                "Latest comments",
                ("Request", "Summary", "Rating", "Comment"),
                [
                    [
                        reference(request_id),
                        summaries.get(request_id, ""),
                        f"{rating} of 5",
                        comment,
                    ]
                    for request_id, rating, comment in comments
                ],
                text=f"The latest {COMMENTS} comments, newest first.",
            ),
        ),
        note="Comments on private request types are shown only on their request pages.",
    )


def knowledge(metrics: Metrics, titles: Callable[[str], str]) -> ReportSection:
    session, chosen = metrics.session, metrics.filter
    previous = chosen.previous()
    A = ArticleFeedbackDay

    def totals(which: object) -> tuple[int, int, int]:
        period = chosen.period if which is chosen else previous.period
        row = session.execute(
            select(
                func.coalesce(func.sum(A.views), 0),
                func.coalesce(func.sum(A.yes), 0),
                func.coalesce(func.sum(A.no), 0),
            ).where(in_days(A.day, period))
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    (views, yes, no), (_, yes_before, _) = totals(chosen), totals(previous)
    filed = total(metrics.filed())
    filed_before = total(metrics.filed(previous))
    articles = session.execute(
        select(A.article_key, func.sum(A.views), func.sum(A.yes), func.sum(A.no))
        .where(in_days(A.day, chosen.period))
        .group_by(A.article_key)
        .order_by(func.sum(A.views).desc(), A.article_key)
        .limit(20)
    ).all()
    return ReportSection(
        "knowledge",
        "Knowledge deflection",
        (
            Headline("Article views", Figure.count(views)),
            Headline("“This answered my question”", Figure.count(yes), Figure.count(yes_before)),
            Headline("“It did not”", Figure.count(no)),
            Headline(
                "Deflection (answered ÷ answered + filed)",
                share(yes, yes + filed),
                share(yes_before, yes_before + filed_before),
            ),
        ),
        (
            ReportTable(
                "knowledge-by-article",
                "Most read articles",
                ("Article", "Views", "Answered", "Did not"),
                [
                    [titles(key), Figure.count(int(v)), Figure.count(int(y)), Figure.count(int(n))]
                    for key, v, y, n in articles
                ],
                chart="bars",
                text="The 20 most read articles in the period, with their answers.",
            ),
        ),
        note="Knowledge figures are counted per UTC day and not narrowed by request filters.",
    )
