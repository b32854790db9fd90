"""Subjects onboarded without Python: one from a form, many from a CSV or the API's list.

Every line is checked before anything is written; errors name the line and the field; a rerun
finds subjects by (kind, external_ref) and updates them."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select

from spoc import Actor, Spoc
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.imports import SubjectDraft
from spoc.core.domain.models import AdminAuditEntry, Subject
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org

ACCOUNT = "generic.account"
PATIENT = "healthcare.patient"


def _count(spoc: Spoc, kind: str) -> int:
    with spoc.db.reader() as session:
        return session.scalar(select(func.count(Subject.id)).where(Subject.kind == kind)) or 0


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def test_a_dry_run_lists_errors_by_line_and_changes_nothing(org: Org) -> None:
    admin = org.actor(org.ada)
    stream = _csv(
        "name,external_ref,spoc,deputies",
        "Contoso,CT-1,dana@example.org,lee@example.org;sam@example.org",
        ",CT-2,dana@example.org,",
        "Fabrikam,CT-3,nobody@example.org,",
        "Litware,CT-1,,",
        "Tailspin,CT-5,dana@example.org,dana@example.org",
        "Too,many,cells,here,really",
    )
    report = org.spoc.onboarding.import_csv(admin, ACCOUNT, stream, dry_run=True)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "name"),
        (4, "spoc"),
        (5, "external_ref"),
        (6, "deputies"),
        (7, "line"),
    ]
    assert "nobody@example.org is not an active agent" in str(report.errors[1])
    assert (report.lines, report.created, report.error_count) == (6, 1, 5)
    assert _count(org.spoc, ACCOUNT) == 1  # only the organisation's Northwind
    real = org.spoc.onboarding.import_csv(admin, ACCOUNT, stream, dry_run=False)
    assert not real.ok and _count(org.spoc, ACCOUNT) == 1  # an error anywhere: nothing written


def test_the_real_run_creates_and_a_rerun_updates_without_duplicates(org: Org) -> None:
    admin = org.actor(org.ada)
    lines = [
        "name,external_ref,spoc,deputies",
        "Northwind Traders Ltd,NW-1,lee@example.org,dana@example.org",
        "Contoso,CT-1,dana@example.org,lee@example.org;sam@example.org",
    ]
    first = org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(*lines), dry_run=False)
    assert (first.created, first.updated, first.ok) == (1, 1, True)
    again = org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(*lines), dry_run=False)
    assert (again.created, again.updated) == (0, 2)
    assert _count(org.spoc, ACCOUNT) == 2
    with org.spoc.db.reader() as session:
        northwind = session.get(Subject, org.account.id)
        assert northwind is not None and northwind.name == "Northwind Traders Ltd"
        assert northwind.spoc_agent_id == org.lee.id
        assert [d.agent_id for d in northwind.deputies] == [org.dana.id]
        people = list(
            session.scalars(
                select(AdminAuditEntry.target_id).where(
                    AdminAuditEntry.action == AuditAction.SUBJECT_PEOPLE
                )
            )
        )
        runs = session.scalar(
            select(func.count(AdminAuditEntry.id)).where(
                AdminAuditEntry.action == AuditAction.SUBJECTS_IMPORTED
            )
        )
    # Northwind's people changed once; Contoso's were set once; the rerun changed no one.
    assert sorted(people) == sorted([org.account.id, northwind.id + 1]) and runs == 2


def test_attributes_are_checked_against_the_kind_model_naming_the_field(
    make_app: AppFactory,
) -> None:
    spoc = spoc_of(make_app(plugins=["generic", "healthcare"]))
    spoc.directory.add_agent(email="nia@example.org", name="Nia Navigator", role="agent")
    stream = _csv(
        "name,external_ref,spoc,date_of_birth,interpreter_needed",
        "Maria Lopez,MRN-1,nia@example.org,1980-02-30,yes",
        "John Smith,MRN-2,nia@example.org,1975-06-01,no",
    )
    report = spoc.onboarding.import_csv(Actor.system(), PATIENT, stream, dry_run=True)
    assert [(e.line, e.field) for e in report.errors] == [(2, "attributes.date_of_birth")]
    stream = _csv("name,external_ref,colour", "Maria Lopez,MRN-1,blue")
    with pytest.raises(ValidationFailed, match="unknown columns: colour"):
        spoc.onboarding.import_csv(Actor.system(), PATIENT, stream, dry_run=True)


def test_only_admins_import_and_agents_edit_no_private_subject_they_do_not_hold(
    make_app: AppFactory,
) -> None:
    spoc = spoc_of(make_app(plugins=["generic", "healthcare"]))
    nia = spoc.directory.add_agent(email="nia@example.org", name="Nia N", role="agent")
    bo = spoc.directory.add_agent(email="bo@example.org", name="Bo B", role="agent")
    nia_actor = Actor.agent(nia.id, nia.role, nia.name)
    bo_actor = Actor.agent(bo.id, bo.role, bo.name)
    with pytest.raises(PermissionDenied):
        spoc.onboarding.import_csv(nia_actor, PATIENT, _csv("name,external_ref"), dry_run=True)
    draft = SubjectDraft(
        "Maria Lopez", "MRN-1", spoc="nia@example.org", attributes={"date_of_birth": "1980-02-03"}
    )
    patient = spoc.onboarding.save_subject(nia_actor, PATIENT, draft)
    with pytest.raises(PermissionDenied):
        spoc.onboarding.save_subject(
            bo_actor,
            PATIENT,
            SubjectDraft("Maria L", "MRN-1", spoc="bo@example.org"),
            subject_id=patient.id,
        )
    with spoc.db.reader() as session:
        kept = session.get(Subject, patient.id)
        assert kept is not None and (kept.name, kept.spoc_agent_id) == ("Maria Lopez", nia.id)


def test_a_subject_saved_with_a_bad_attribute_is_refused_naming_the_field(
    make_app: AppFactory,
) -> None:
    spoc = spoc_of(make_app(plugins=["generic", "healthcare"]))
    draft = SubjectDraft("Maria Lopez", "MRN-1", attributes={"date_of_birth": "soon"})
    with pytest.raises(ValidationFailed) as refused:
        spoc.onboarding.save_subject(Actor.system(), PATIENT, draft)
    assert list(refused.value.errors) == ["attributes.date_of_birth"]
    assert _count(spoc, PATIENT) == 0


@pytest.mark.slow  # about 10 s on SQLite: two passes of 10,000 lines, then a rerun
def test_ten_thousand_subjects_import_and_reimport(org: Org) -> None:
    admin = org.actor(org.ada)
    header = "name,external_ref,spoc,deputies"
    rows = [f"Account {n},AC-{n:05d},dana@example.org,lee@example.org" for n in range(10_000)]
    bad = list(rows)
    bad[4_999] = "Account broken,AC-04999,ghost@example.org,"
    dry = org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(header, *bad), dry_run=True)
    assert [(e.line, e.field) for e in dry.errors] == [(5_001, "spoc")]
    assert _count(org.spoc, ACCOUNT) == 1
    started = time.perf_counter()
    done: list[int] = []
    real = org.spoc.onboarding.import_csv(
        admin, ACCOUNT, _csv(header, *rows), dry_run=False, progress=done.append
    )
    elapsed = time.perf_counter() - started
    assert (real.created, real.updated, real.ok) == (10_000, 0, True)
    assert done[0] == 500 and done[-1] == 10_000  # written batch by batch
    again = org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(header, *rows), dry_run=False)
    assert (again.created, again.updated) == (0, 10_000)
    assert _count(org.spoc, ACCOUNT) == 10_001
    print(f"10,000 subjects imported in {elapsed:.1f} s")


def test_imported_subjects_are_found_by_search_at_once(org: Org) -> None:
    admin = org.actor(org.ada)
    lines = ("name,external_ref", "Zephyr Widgets,ZW-1", "Quokka Supplies,QS-2")
    org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(*lines), dry_run=False)
    [hit] = org.spoc.search.query(admin, "zephyr", kinds=("subject",)).hits
    renamed = ("name,external_ref", "Zephyr Gadgets,ZW-1")
    org.spoc.onboarding.import_csv(admin, ACCOUNT, _csv(*renamed), dry_run=False)
    [again] = org.spoc.search.query(admin, "gadgets", kinds=("subject",)).hits
    assert again.id == hit.id  # the same subject, its new name found
    assert org.spoc.search.query(admin, "widgets", kinds=("subject",)).hits == []
