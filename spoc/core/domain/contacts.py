"""Contacts created, changed and imported by staff: the console's contact directory, ``spoc
contacts import FILE`` and ``POST /api/v1/contacts`` all go through :class:`ContactDirectory`.

Contacts are found by email (what a spreadsheet has): an import updates the contact whose
address it names and creates the others, so running it again changes nothing more. Changing a
contact's details is for admins, as their export and erasure are: a contact's name and address
can be special-category data (they filed a private request), and the directory shows them
unmasked. Every change is audited with what it was before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.imports import ImportReport, ProgressFn
from spoc.core.domain.models import Contact
from spoc.core.domain.privacy import ERASED_DOMAIN
from spoc.core.domain.requests.fields import validation_errors
from spoc.core.domain.rows import RowKind, import_rows, read_csv, replay
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.structures import Saved
from spoc.core.kernel.types import Actor, Role

COLUMNS = ("name", "email", "phone", "language")


class ContactForm(BaseModel):
    """A contact as staff type it. A blank phone removes it; a blank language keeps it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()./ -]*$")
    language: str | None = Field(
        default=None, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )


def _email(values: Mapping[str, Any]) -> str:
    return str(values.get("email", "")).strip().lower()


def _details(contact: Contact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "language": contact.language,
    }


class ContactDirectory(ServiceBase):
    def save_contact(
        self, actor: Actor, values: Mapping[str, Any], *, contact_id: int | None = None
    ) -> Contact:
        """Create (``contact_id`` None) or change one contact. Invalid input raises
        :class:`ValidationFailed` naming each field and changes nothing; the change is audited
        (before and after)."""
        self._require_admin(actor, "create or change contacts")
        with self.db.transaction() as session:
            existing = None
            if contact_id is not None:
                existing = session.get(Contact, contact_id)
                if existing is None:
                    raise NotFoundError(f"no contact {contact_id}")
            form = self._check(session, values, existing)
            return self._write(session, actor, form, existing, audit_new=True)

    def import_csv(
        self,
        actor: Actor,
        stream: IO[str],
        *,
        dry_run: bool,
        progress: ProgressFn | None = None,
        checking: ProgressFn | None = None,
    ) -> ImportReport:
        """Import a CSV of contacts (columns name, email, phone, language; the header is line
        1), found by email: checked whole first, written in batches only when every line is
        clean. ``stream`` must be seekable."""
        self._require_admin(actor, "import contacts")
        kind = self._kind(actor)
        report = import_rows(
            self.db,
            kind,
            read_csv(kind, stream),
            dry_run=dry_run,
            progress=progress,
            checking=checking,
        )
        self._summary(actor, report)
        return report

    def import_items(
        self, actor: Actor, items: Sequence[Mapping[str, Any]], *, dry_run: bool
    ) -> ImportReport:
        """The API's batch, numbered from 1 by position; the same rules as a CSV."""
        self._require_admin(actor, "import contacts")
        report = import_rows(self.db, self._kind(actor), replay(items), dry_run=dry_run)
        self._summary(actor, report)
        return report

    # --- the checks and the write -------------------------------------------------------

    def _kind(self, actor: Actor) -> RowKind:
        found: dict[str, Contact | None] = {}  # one batch's contacts, read in one query

        def prepare(session: Session, batch: Sequence[Mapping[str, Any]]) -> None:
            found.clear()
            emails = {_email(v) for v in batch} - {""}
            for contact in session.scalars(select(Contact).where(Contact.email.in_(emails))):
                found[contact.email] = contact
            found.update({e: None for e in emails if e not in found})

        def lookup(session: Session, email: str) -> Contact | None:
            return found[email] if email in found else self._by_email(session, email)

        def save(session: Session, values: Mapping[str, Any], check_only: bool) -> Saved:
            email = _email(values)
            existing = lookup(session, email) if email else None
            form = self._check(session, values, existing, lookup)
            if not check_only:
                found[email] = self._write(session, actor, form, existing, audit_new=False)
            return Saved.CREATED if existing is None else Saved.UPDATED

        return RowKind("contacts", COLUMNS, ("name", "email"), "email", _email, save, prepare)

    def _check(
        self,
        session: Session,
        values: Mapping[str, Any],
        existing: Contact | None,
        lookup: Callable[[Session, str], Contact | None] | None = None,
    ) -> ContactForm:
        try:
            form = ContactForm.model_validate(dict(values))
        except ValidationError as exc:
            raise ValidationFailed("invalid contact", validation_errors(exc, "")) from None
        if existing is not None and existing.email.endswith("@" + ERASED_DOMAIN):
            raise ValidationFailed("invalid contact", {"email": "an erased contact stays erased"})
        email = form.email.lower()
        if email.endswith("@" + ERASED_DOMAIN):
            raise ValidationFailed("invalid contact", {"email": "an address erasure reserves"})
        other = (lookup or self._by_email)(session, email)
        if other is not None and other is not existing:
            raise ValidationFailed("invalid contact", {"email": f"{email} is another contact's"})
        return form

    def _write(
        self,
        session: Session,
        actor: Actor,
        form: ContactForm,
        contact: Contact | None,
        *,
        audit_new: bool,
    ) -> Contact:
        before = _details(contact) if contact is not None else None
        if contact is None:
            contact = Contact(
                email=form.email.lower(),
                name=form.name,
                phone=form.phone or None,
                language=form.language or "en",
                attributes={},
                created_at=self.clock.now(),
            )
            session.add(contact)
        else:
            contact.email = form.email.lower()
            contact.name = form.name
            contact.phone = form.phone or None
            contact.language = form.language or contact.language
        after = _details(contact)
        if before != after and (before is not None or audit_new):
            session.flush()  # a new contact's id, for the entry
            verb = "Created" if before is None else "Changed"
            record_admin_change(
                session,
                actor,
                AuditAction.CONTACT_SAVED,
                "contact",
                contact.id,
                f"{verb} contact {contact.id}",
                at=self.clock.now(),
                before=before,
                after=after,
            )
        return contact

    def _summary(self, actor: Actor, report: ImportReport) -> None:
        if report.dry_run or not report.ok:
            return
        with self.db.transaction() as session:
            record_admin_change(
                session,
                actor,
                AuditAction.CONTACTS_IMPORTED,
                "contact",
                None,
                f"Imported contacts: created {report.created}, updated {report.updated}",
                at=self.clock.now(),
                after={"created": report.created, "updated": report.updated},
            )

    def _require_admin(self, actor: Actor, action: str) -> None:
        self.require_staff(actor, action, (Role.ADMIN,))

    @staticmethod
    def _by_email(session: Session, email: str) -> Contact | None:
        # Stored in lower case (intake and this service), so the unique index finds it.
        return session.scalar(select(Contact).where(Contact.email == email.lower()))
