"""Contacts created, changed and imported by staff: errors name the field (and the line),
nothing is written unless everything is clean, a rerun finds contacts by email, every change
is audited with what it was."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from spoc import Spoc
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry, Contact
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from tests.conftest import Org


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\n".join(lines) + "\n")


def _count(spoc: Spoc) -> int:
    with spoc.db.reader() as session:
        return session.scalar(select(func.count(Contact.id))) or 0


def _audit(spoc: Spoc, action: str) -> list[AdminAuditEntry]:
    with spoc.db.reader() as session:
        return list(
            session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.action == action))
        )


def test_a_contact_saved_is_audited_and_bad_input_names_the_field(org: Org) -> None:
    admin = org.actor(org.ada)
    contacts = org.spoc.contacts
    with pytest.raises(ValidationFailed) as refused:
        contacts.save_contact(admin, {"name": "", "email": "maria@", "language": "English!"})
    assert set(refused.value.errors) == {"name", "email", "language"}
    assert _count(org.spoc) == 0
    maria = contacts.save_contact(
        admin, {"name": "Maria Anders", "email": "Maria@Example.com", "phone": "+49 30 1234"}
    )
    assert (maria.email, maria.language) == ("maria@example.com", "en")
    changed = contacts.save_contact(
        admin,
        {"name": "Maria Anders-Berg", "email": "maria@example.com", "language": "de"},
        contact_id=maria.id,
    )
    assert (changed.name, changed.phone, changed.language) == ("Maria Anders-Berg", None, "de")
    entries = _audit(org.spoc, AuditAction.CONTACT_SAVED)
    assert [e.target_id for e in entries] == [maria.id, maria.id]
    assert entries[1].before is not None and entries[1].before["name"] == "Maria Anders"
    assert entries[1].after is not None and entries[1].after["phone"] is None
    other = contacts.save_contact(admin, {"name": "Tom", "email": "tom@example.com"})
    with pytest.raises(ValidationFailed) as taken:
        contacts.save_contact(
            admin, {"name": "Tom", "email": "maria@example.com"}, contact_id=other.id
        )
    assert "email" in taken.value.errors


def test_only_admins_change_contacts(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        org.spoc.contacts.save_contact(
            org.actor(org.dana), {"name": "Maria", "email": "maria@example.com"}
        )
    with pytest.raises(PermissionDenied):
        org.spoc.contacts.import_csv(
            org.actor(org.dana), _csv("name,email", "Maria,maria@example.com"), dry_run=False
        )
    assert _count(org.spoc) == 0


def test_an_import_lists_errors_by_line_then_creates_and_a_rerun_updates(org: Org) -> None:
    admin = org.actor(org.ada)
    contacts = org.spoc.contacts
    bad = _csv(
        "name,email,phone,language",
        "Maria Anders,maria@example.com,,de",
        ",ana@example.com,,",
        "Tom,not-an-email,,",
        "Maria again,MARIA@example.com,,",
        "Too,many,cells,here,really",
    )
    report = contacts.import_csv(admin, bad, dry_run=False)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "name"),
        (4, "email"),
        (5, "email"),
        (6, "line"),
    ]
    assert _count(org.spoc) == 0
    good = [
        "name,email,phone,language",
        "Maria Anders,maria@example.com,+49 30 1234,de",
        "Ana Trujillo,ana@example.com,,",
    ]
    first = contacts.import_csv(admin, _csv(*good), dry_run=False)
    assert (first.created, first.updated, first.ok) == (2, 0, True)
    again = contacts.import_csv(admin, _csv(*good), dry_run=False)
    assert (again.created, again.updated) == (0, 2)
    assert _count(org.spoc) == 2
    # Created by an import: counted in one entry; unchanged on the rerun: no entry per contact.
    assert len(_audit(org.spoc, AuditAction.CONTACTS_IMPORTED)) == 2
    assert _audit(org.spoc, AuditAction.CONTACT_SAVED) == []
    renamed = contacts.import_csv(
        admin, _csv("name,email", "Maria Anders-Berg,maria@example.com"), dry_run=False
    )
    assert renamed.updated == 1
    [entry] = _audit(org.spoc, AuditAction.CONTACT_SAVED)
    assert entry.before is not None and entry.before["language"] == "de"
    assert entry.after is not None and entry.after["language"] == "de"  # blank keeps it


def test_a_file_with_unknown_columns_or_no_email_is_refused_naming_the_file(org: Org) -> None:
    admin = org.actor(org.ada)
    for header in ("name,email,shoe_size", "name,phone"):
        with pytest.raises(ValidationFailed) as refused:
            org.spoc.contacts.import_csv(admin, _csv(header, "A,b"), dry_run=True)
        assert "file" in refused.value.errors


def test_an_erased_contact_stays_erased(org: Org) -> None:
    admin = org.actor(org.ada)
    maria = org.spoc.contacts.save_contact(
        admin, {"name": "Maria Anders", "email": "maria@example.com"}
    )
    org.spoc.privacy.erase_contact(admin, maria.id, reason="asked to be forgotten")
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.contacts.save_contact(
            admin, {"name": "Maria Anders", "email": "maria@example.com"}, contact_id=maria.id
        )
    assert "email" in refused.value.errors


def test_ten_thousand_contacts_import_in_batches(org: Org) -> None:
    admin = org.actor(org.ada)
    lines = ["name,email"] + [f"Person {i},p{i}@example.com" for i in range(10_000)]
    done: list[int] = []
    report = org.spoc.contacts.import_csv(admin, _csv(*lines), dry_run=False, progress=done.append)
    assert (report.created, report.ok) == (10_000, True)
    assert done[0] == 500 and done[-1] == 10_000 and len(done) == 20
    assert _count(org.spoc) == 10_000
