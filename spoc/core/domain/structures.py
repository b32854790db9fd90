"""Plugins' own rows through the core's onboarding (see :mod:`spoc.core.kernel.structures`).

A structure that completes a subject kind is called by :class:`~spoc.core.domain.onboarding.
Onboarding` inside the subject's own checks and transaction (:func:`check_details`,
:func:`complete`). A child structure's items are saved here, one from the console or many
from a CSV or the API, with the import rules of :mod:`spoc.core.domain.rows`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from spoc.core.domain.access import may_change_people, private_subject_kind
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.imports import ImportReport, ProgressFn
from spoc.core.domain.models import Subject
from spoc.core.domain.requests.fields import validation_errors
from spoc.core.domain.rows import RowKind, import_rows, read_csv, replay
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.structures import PARENT_COLUMN, Saved, Structure, StructureItem
from spoc.core.kernel.types import Actor, Role

DETAILS = "details"  # a completing structure's fields, in error names: details.<field>


def _named(
    structure: Structure, attribute_names: Sequence[str], errors: Mapping[str, str]
) -> dict[str, str]:
    """A plugin's errors named as the surfaces name fields: ``details.<field>`` for the
    structure's, ``attributes.<field>`` for the kind's attributes, others as they are."""
    named: dict[str, str] = {}
    for name, message in errors.items():
        head = name.split(".", 1)[0]
        if head in structure.field_names:
            named[f"{DETAILS}.{name}"] = message
        elif head in attribute_names:
            named[f"attributes.{name}"] = message
        else:
            named[name] = message
    return named


def validate_fields(structure: Structure, values: Mapping[str, Any], prefix: str) -> BaseModel:
    """The structure's fields model over ``values``, or :class:`ValidationFailed` naming each
    field under ``prefix``."""
    try:
        return structure.fields_model.model_validate(dict(values))
    except ValidationError as exc:
        problems = validation_errors(exc, prefix)
        raise ValidationFailed(f"invalid {structure.title.lower()}", problems) from None


def check_details(
    spoc: Any,
    session: Session,
    actor: Actor,
    structure: Structure,
    *,
    values: Mapping[str, Any],
    subject: Subject | None,
    name: str,
    external_ref: str | None,
    attributes: Mapping[str, Any],
    attribute_names: Sequence[str],
    errors: dict[str, str],
) -> BaseModel | None:
    """A completing structure's fields of one subject, checked by the model and then by the
    plugin (``check_only``); errors are added to ``errors``, and ``None`` returned."""
    try:
        fields = validate_fields(structure, values, DETAILS)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None
    item = StructureItem(
        session,
        spoc,
        actor,
        fields,
        subject.id if subject else None,
        name,
        external_ref,
        attributes,
        check_only=True,
    )
    try:
        structure.save(item)
    except ValidationFailed as exc:
        errors.update(_named(structure, attribute_names, exc.errors or {DETAILS: str(exc)}))
        return None
    return fields


def complete(
    spoc: Any,
    session: Session,
    actor: Actor,
    structure: Structure,
    fields: BaseModel,
    subject: Subject,
) -> None:
    """The plugin's rows of a subject just written, in its transaction."""
    structure.save(
        StructureItem(
            session,
            spoc,
            actor,
            fields,
            subject.id,
            subject.name,
            subject.external_ref,
            subject.attributes,
            check_only=False,
        )
    )


class StructureService(ServiceBase):
    """A child structure's items: one from the console, many from a CSV or the API."""

    def structure(self, key: str) -> Structure:
        """The child structure ``key``, or :class:`ValidationFailed` naming ``structure``."""
        found = self.host.structures.get(key)
        if found is None or found.parent_kind is None:
            raise ValidationFailed(
                "invalid structure", {"structure": f"no enabled plugin offers structure {key!r}"}
            )
        return found

    def save_item(self, actor: Actor, key: str, parent_id: int, values: Mapping[str, Any]) -> Saved:
        """Create or change one item under the parent subject (found by the structure's
        ``key_fields``). Invalid input raises :class:`ValidationFailed` naming each field and
        changes nothing."""
        self.require_staff(actor, "create or change structures", (Role.ADMIN, Role.AGENT))
        structure = self.structure(key)
        with self.db.transaction() as session:
            parent = session.get(Subject, parent_id)
            if parent is None or parent.kind != structure.parent_kind:
                raise NotFoundError(f"no {structure.parent_kind} {parent_id}")
            self._may_change(session, actor, parent)
            fields = validate_fields(structure, values, "")
            self._save(session, actor, structure, parent, fields, check_only=True)
            return self._save(session, actor, structure, parent, fields, check_only=False)

    def import_csv(
        self,
        actor: Actor,
        key: str,
        stream: IO[str],
        *,
        dry_run: bool,
        progress: ProgressFn | None = None,
        checking: ProgressFn | None = None,
    ) -> ImportReport:
        """Import a CSV of items: column ``parent`` (the parent subject's external_ref) and
        the structure's fields; the header is line 1. Checked whole first; written in batches
        only when every line is clean; found again by (parent, key fields)."""
        self.require_staff(actor, "import structures", (Role.ADMIN,))
        kind = self._kind(actor, self.structure(key))
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
        self, actor: Actor, key: str, items: Sequence[Mapping[str, Any]], *, dry_run: bool
    ) -> ImportReport:
        """The API's batch, numbered from 1 by position; the same rules as a CSV."""
        self.require_staff(actor, "import structures", (Role.ADMIN,))
        kind = self._kind(actor, self.structure(key))
        report = import_rows(self.db, kind, replay(items), dry_run=dry_run)
        self._summary(actor, report)
        return report

    def _kind(self, actor: Actor, structure: Structure) -> RowKind:
        def save(session: Session, values: Mapping[str, Any], check_only: bool) -> Saved:
            ref = str(values.get(PARENT_COLUMN, "")).strip()
            parent = (
                session.scalar(
                    select(Subject).where(
                        Subject.kind == structure.parent_kind, Subject.external_ref == ref
                    )
                )
                if ref
                else None
            )
            if parent is None:
                raise ValidationFailed(
                    "invalid parent",
                    {PARENT_COLUMN: f"no {structure.parent_kind} with the reference {ref!r}"},
                )
            try:
                self._may_change(session, actor, parent)
            except PermissionDenied as exc:
                raise ValidationFailed("not allowed", {PARENT_COLUMN: str(exc)}) from None
            rest = {k: v for k, v in values.items() if k != PARENT_COLUMN}
            fields = validate_fields(structure, rest, "")
            return self._save(session, actor, structure, parent, fields, check_only=check_only)

        def key_of(values: Mapping[str, Any]) -> str:
            parts = [
                values.get(PARENT_COLUMN, ""),
                *(values.get(f, "") for f in structure.key_fields),
            ]
            return " / ".join(str(p).strip().lower() for p in parts)

        return RowKind(
            structure.key,
            (PARENT_COLUMN, *structure.field_names),
            (PARENT_COLUMN, *structure.key_fields),
            structure.key_fields[-1],
            key_of,
            save,
        )

    def _save(
        self,
        session: Session,
        actor: Actor,
        structure: Structure,
        parent: Subject,
        fields: BaseModel,
        *,
        check_only: bool,
    ) -> Saved:
        item = StructureItem(
            session,
            self.hooks.spoc,
            actor,
            fields,
            parent.id,
            parent.name,
            parent.external_ref,
            parent.attributes,
            check_only=check_only,
        )
        return Saved(structure.save(item))

    def _may_change(self, session: Session, actor: Actor, parent: Subject) -> None:
        if private_subject_kind(self.host, parent.kind) and not may_change_people(
            session, actor, parent
        ):
            raise PermissionDenied("only an admin or its SPOC may change a private subject")

    def _summary(self, actor: Actor, report: ImportReport) -> None:
        if report.dry_run or not report.ok:
            return
        with self.db.transaction() as session:
            record_admin_change(
                session,
                actor,
                AuditAction.STRUCTURES_IMPORTED,
                "structure",
                None,
                f"Imported {report.kind}: created {report.created}, updated {report.updated}",
                at=self.clock.now(),
                after={
                    "structure": report.kind,
                    "created": report.created,
                    "updated": report.updated,
                },
            )
