"""The demo: a portfolio of three projects over six periods, with a slipping milestone, a
stale workstream and a red project."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from spoc.core.domain.demo import seed
from spoc.core.services import spoc_of
from tests.conftest import AppFactory


def test_the_demo_portfolio(make_app: AppFactory) -> None:
    from spoc.plugins.projects.models import Chase, Milestone, Period, Project

    app: Flask = make_app(plugins=["generic", "projects"])
    spoc = spoc_of(app)
    seed(spoc)
    with spoc.db.reader() as session:
        projects = list(session.scalars(select(Project.subject_id)))
        assert len(projects) == 3
        for project_id in projects:
            count = session.scalar(select(func.count()).where(Period.project_id == project_id))
            assert count == 6
        assert (session.scalar(select(func.max(Milestone.slip_days))) or 0) > 0
        assert session.scalar(select(func.count(Chase.id)).where(Chase.received_at.is_(None)))
        reds = session.scalar(select(func.count(Period.id)).where(Period.computed_rag == "red"))
        assert reds and reds > 0
