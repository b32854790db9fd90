"""Creating the structure is safe to run again: a stop between the core's subject and the
plugin's row leaves nothing that a second call does not complete."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from spoc import Subject
from tests.plugins.projects.conftest import Office


def _stop_after_the_subject(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    add_subject = office.spoc.directory.add_subject

    def then_stop(**kwargs: Any) -> Subject:
        add_subject(**kwargs)
        raise SystemExit("the process stopped")

    monkeypatch.setattr(office.spoc.directory, "add_subject", then_stop)


def _subjects(office: Office, kind: str, name: str) -> list[int]:
    with office.spoc.db.reader() as session:
        return list(
            session.scalars(select(Subject.id).where(Subject.kind == kind, Subject.name == name))
        )


def test_adding_a_workstream_again_completes_the_subject_a_stop_left_behind(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spoc.plugins.projects.models import Workstream
    from spoc.plugins.projects.structure import add_workstream

    _stop_after_the_subject(office, monkeypatch)
    with pytest.raises(SystemExit):
        add_workstream(
            office.spoc, "Data", project_id=office.apollo.id, lead=("Uma Roy", "uma@example.com")
        )
    monkeypatch.undo()
    [orphan] = _subjects(office, "projects.workstream", "Data")
    stream = add_workstream(
        office.spoc, "Data", project_id=office.apollo.id, lead=("Uma Roy", "uma@example.com")
    )
    assert stream.id == orphan
    assert _subjects(office, "projects.workstream", "Data") == [orphan]
    with office.spoc.db.reader() as session:
        row = session.get(Workstream, orphan)
        assert row is not None and row.lead_email == "uma@example.com"


def test_adding_a_project_again_with_its_code_completes_it(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spoc.plugins.projects.models import Period, Person, Project
    from spoc.plugins.projects.structure import add_project

    def add() -> Subject:
        return add_project(
            office.spoc,
            "Cygnus",
            portfolio_id=office.portfolio.id,
            manager_id=office.org.sam.id,
            sponsor=("Mia Holt", "mia@example.com"),
            reporting_starts=date(2026, 3, 1),
            code="DX-3",
        )

    _stop_after_the_subject(office, monkeypatch)
    with pytest.raises(SystemExit):
        add()
    monkeypatch.undo()
    [orphan] = _subjects(office, "projects.project", "Cygnus")
    project = add()  # the code is taken by the orphan: adopted, not refused
    assert project.id == orphan
    add()  # and once more: still one project, one sponsor, one period
    with office.spoc.db.reader() as session:
        assert session.get(Project, orphan) is not None
        sponsors = session.scalar(
            select(func.count()).select_from(Person).where(Person.project_id == orphan)
        )
        periods = session.scalar(
            select(func.count()).select_from(Period).where(Period.project_id == orphan)
        )
    assert (sponsors, periods) == (1, 1)
