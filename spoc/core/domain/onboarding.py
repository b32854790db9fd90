"""Onboarding without Python: subjects of any kind saved one at a time or imported in bulk.

Every surface (the console's forms and upload, ``spoc subjects import``, ``POST
/api/v1/subjects``) goes through :class:`Onboarding`, so they validate alike and audit alike.

An import is two passes over the same rows. The first checks every line (name, reference, the
SPOC and deputies by email, the kind's attributes model) and changes nothing; with an error on
any line the import stops there and lists them by line number. The second writes in batches,
one transaction each, keyed by (kind, external_ref): running an import again updates the same
subjects and never makes a second one. Only one batch of rows is held at a time; the CSV
stream is read again from its start for the second pass.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from spoc.core.domain.access import may_change_people, private_subject_kind
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.directory import DirectoryService
from spoc.core.domain.imports import (
    CORE_COLUMNS,
    MAX_DEPUTIES,
    Checked,
    ImportReport,
    Numbered,
    ProgressFn,
    SubjectDraft,
    batches,
    draft_from_csv,
    refs_of,
    replay,
)
from spoc.core.domain.models import Agent, Subject, SubjectDeputy
from spoc.core.domain.structures import check_details, complete
from spoc.core.domain.writes import ServiceBase, ServiceDeps
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Actor, Role


class Onboarding(ServiceBase):
    def __init__(self, deps: ServiceDeps, *, directory: DirectoryService) -> None:
        super().__init__(deps)
        self.directory = directory

    # --- one subject, from the console -----------------------------------------------------

    def save_subject(
        self, actor: Actor, kind: str, draft: SubjectDraft, *, subject_id: int | None = None
    ) -> Subject:
        """Create (``subject_id`` None) or change one subject; people by email. Invalid input
        raises :class:`ValidationFailed` naming each field and changes nothing; a change of the
        SPOC or deputies is audited."""
        self.require_staff(actor, "create or change subjects", (Role.ADMIN, Role.AGENT))
        self._require_kind(kind)
        with self.db.transaction() as session:
            existing = None
            if subject_id is not None:
                existing = session.get(Subject, subject_id)
                if existing is None or existing.kind != kind:
                    raise NotFoundError(f"no subject {subject_id}")
            errors: dict[str, str] = {}
            checked = self._check(
                actor, session, _agents(session), kind, draft, 1, existing, errors
            )
            if checked is None:
                raise ValidationFailed("invalid subject", errors)
            clash = self._by_ref(session, kind, [draft.external_ref] if draft.external_ref else [])
            if draft.external_ref and clash and clash[draft.external_ref] is not existing:
                raise ValidationFailed(
                    "invalid subject",
                    {"external_ref": f"{draft.external_ref} is another subject's reference"},
                )
            return self._write(session, actor, kind, checked, existing)

    # --- many subjects: a CSV file, or the API's list -------------------------------------

    def import_csv(
        self,
        actor: Actor,
        kind: str,
        stream: IO[str],
        *,
        dry_run: bool,
        progress: ProgressFn | None = None,
        checking: ProgressFn | None = None,
    ) -> ImportReport:
        """Import a CSV (a header line, then one subject per line; line numbers count the
        header as line 1). Columns: name, external_ref, spoc (an agent's email), deputies
        (emails separated by ``;``), the kind's attribute fields and those of the structure
        completing it. ``stream`` must be seekable: the second pass reads it again from the
        start. ``checking`` hears the lines checked after each batch, ``progress`` those
        written."""
        self.require_staff(actor, "import subjects", (Role.ADMIN,))
        self._require_kind(kind)
        report = ImportReport(kind, dry_run)
        try:
            stream.seek(0)
            header = next(csv.reader(stream), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed("unreadable file", {"file": str(exc)}) from None
        columns = [c.strip() for c in header or []]
        if "name" not in columns or "external_ref" not in columns:
            raise ValidationFailed(
                "invalid file", {"file": "the first line must name the columns name, external_ref"}
            )
        structure = self.host.completing(kind)
        details = structure.field_names if structure is not None else []
        unknown = set(columns) - set(CORE_COLUMNS) - set(self._attribute_names(kind)) - set(details)
        if unknown and (self._attribute_names(kind) or structure is not None):
            raise ValidationFailed(
                "invalid file", {"file": f"unknown columns: {', '.join(sorted(unknown))}"}
            )

        def drafts() -> Iterator[tuple[int, SubjectDraft | str]]:
            stream.seek(0)
            reader = csv.reader(stream)
            next(reader, None)
            for number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, often the last one
                if len(row) != len(columns):
                    yield number, f"has {len(row)} cells, the header {len(columns)}"
                    continue
                yield number, draft_from_csv(dict(zip(columns, row, strict=True)), details)

        return self._import(actor, kind, drafts, report, progress, checking)

    def import_drafts(
        self,
        actor: Actor,
        drafts: Sequence[tuple[str, SubjectDraft]],
        *,
        dry_run: bool,
    ) -> dict[str, ImportReport]:
        """The API's batch of (kind, draft), already in memory (bounded by the request size)
        and numbered from 1 by position. Every kind's items are checked before any is written;
        with an error anywhere nothing is. Returns a report per kind."""
        self.require_staff(actor, "import subjects", (Role.ADMIN,))
        by_kind: dict[str, list[Numbered]] = {}
        for number, (kind, draft) in enumerate(drafts, start=1):
            by_kind.setdefault(kind, []).append((number, draft))
        errors = {
            f"{n - 1}.kind": f"no enabled plugin offers subject kind {k!r}"
            for k, rows in by_kind.items()
            if k not in self.host.subject_kinds
            for n, _ in rows[:1]
        }
        if errors:
            raise ValidationFailed("invalid subjects", errors)
        reports = {
            kind: self._import(actor, kind, replay(rows), ImportReport(kind, True), None)
            for kind, rows in by_kind.items()
        }
        if dry_run or not all(r.ok for r in reports.values()):
            return reports
        return {
            kind: self._import(actor, kind, replay(rows), ImportReport(kind, False), None)
            for kind, rows in by_kind.items()
        }

    # --- the two passes -------------------------------------------------------------------

    def _import(
        self,
        actor: Actor,
        kind: str,
        drafts: Callable[[], Iterable[tuple[int, SubjectDraft | str]]],
        report: ImportReport,
        progress: ProgressFn | None,
        checking: ProgressFn | None = None,
    ) -> ImportReport:
        seen: set[str] = set()  # references only, to find a subject listed twice
        with self.db.reader() as session:
            agents = _agents(session)
            for batch in batches(drafts()):
                existing = self._by_ref(session, kind, refs_of(batch))
                for line, draft in batch:
                    report.lines += 1
                    if isinstance(draft, str):
                        report.add_error(line, "line", draft)
                        continue
                    errors: dict[str, str] = {}
                    if not draft.external_ref:
                        errors["external_ref"] = "required: an import finds subjects by it"
                    elif draft.external_ref in seen:
                        errors["external_ref"] = f"{draft.external_ref} is listed twice"
                    elif draft.external_ref:
                        seen.add(draft.external_ref)
                    found = existing.get(draft.external_ref or "")
                    checked = self._check(actor, session, agents, kind, draft, line, found, errors)
                    if found is not None and not self._may_change(session, actor, found):
                        errors["spoc"] = "only an admin or its SPOC may change a private subject"
                    if checked is None or errors:
                        for name, message in errors.items():
                            report.add_error(line, name, message)
                    elif found is None:
                        report.created += 1
                    else:
                        report.updated += 1
                if checking is not None:
                    checking(report.lines)
        if report.dry_run or not report.ok:
            return report
        done = 0
        for batch in batches(drafts()):
            with self.db.transaction() as session:
                agents = _agents(session)
                existing = self._by_ref(session, kind, refs_of(batch))
                rows = []
                for line, draft in batch:
                    assert not isinstance(draft, str)  # the first pass stopped on those
                    errors = {}
                    found = existing.get(draft.external_ref or "")
                    checked = self._check(actor, session, agents, kind, draft, line, found, errors)
                    if checked is None:  # changed between the passes (an agent deactivated)
                        raise ValidationFailed(
                            f"line {line} no longer valid; lines before it were imported",
                            errors,
                        )
                    rows.append(checked)
                self._write_batch(session, actor, kind, rows, existing)
            done += len(batch)
            if progress is not None:
                progress(done)
        record_admin_change_summary(self, actor, kind, report)
        return report

    def _check(
        self,
        actor: Actor,
        session: Session,
        agents: Mapping[str, int],
        kind: str,
        draft: SubjectDraft,
        line: int,
        existing: Subject | None,
        errors: dict[str, str],
    ) -> Checked | None:
        name = draft.name.strip()
        if not name:
            errors["name"] = "required"
        elif len(name) > 200:
            errors["name"] = "at most 200 characters"
        ref = (draft.external_ref or "").strip()
        if len(ref) > 100:
            errors["external_ref"] = "at most 100 characters"
        spoc_id = None
        if draft.spoc:
            spoc_id = agents.get(draft.spoc.strip().lower())
            if spoc_id is None:
                errors["spoc"] = f"{draft.spoc} is not an active agent"
        deputy_ids: tuple[int, ...] | None = None
        if draft.deputies is not None:
            ids = []
            for email in draft.deputies:
                agent_id = agents.get(email.strip().lower())
                if agent_id is None:
                    errors["deputies"] = f"{email} is not an active agent"
                ids.append(agent_id or 0)
            deputy_ids = tuple(ids)
            if len(ids) > MAX_DEPUTIES:
                errors["deputies"] = f"at most {MAX_DEPUTIES} deputies"
            elif len(set(ids)) != len(ids):
                errors["deputies"] = "someone is listed twice"
            elif spoc_id is not None and spoc_id in ids:
                errors["deputies"] = "the SPOC cannot deputise"
        merged = {**(existing.attributes if existing is not None else {}), **draft.attributes}
        attributes: dict[str, Any] = {}
        try:
            attributes = self.directory.validate_attributes(kind, merged)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        details = None
        structure = self.host.completing(kind)
        if structure is not None and not errors:
            details = check_details(
                self.hooks.spoc,
                session,
                actor,
                structure,
                values=draft.details,
                subject=existing,
                name=name,
                external_ref=ref or None,
                attributes=attributes,
                attribute_names=self._attribute_names(kind),
                errors=errors,
            )
        if errors:
            return None
        return Checked(line, draft, spoc_id, deputy_ids, attributes, details)

    def _write(
        self,
        session: Session,
        actor: Actor,
        kind: str,
        checked: Checked,
        subject: Subject | None,
    ) -> Subject:
        """One subject: its fields, then its people."""
        if subject is None:
            subject = self._new(session, kind, checked)
            session.flush()
            self._set_people(session, actor, subject, checked, fresh=True)
        else:
            self._update(session, actor, subject, checked)
        session.flush()
        self._complete(session, actor, kind, [(subject, checked)])
        self._index(session, [subject])
        return subject

    def _complete(
        self, session: Session, actor: Actor, kind: str, rows: Sequence[tuple[Subject, Checked]]
    ) -> None:
        """The plugin's own rows of the subjects just written, in their transaction."""
        structure = self.host.completing(kind)
        if structure is None:
            return
        for subject, checked in rows:
            complete(self.hooks.spoc, session, actor, structure, checked.details, subject)
        session.flush()

    def _index(self, session: Session, subjects: Sequence[Subject]) -> None:
        """The subjects' search documents, rewritten in this transaction."""
        if self.deps.search is not None and subjects:
            self.deps.search.index_subjects(session, subjects)

    def _write_batch(
        self,
        session: Session,
        actor: Actor,
        kind: str,
        rows: Sequence[Checked],
        existing: Mapping[str, Subject],
    ) -> None:
        """Many subjects in one transaction: the new ones inserted together, one flush."""
        fresh = []
        written = []
        for checked in rows:
            found = existing.get(checked.draft.external_ref or "")
            if found is None:
                fresh.append((self._new(session, kind, checked), checked))
            else:
                self._update(session, actor, found, checked)
                written.append((found, checked))
        session.flush()
        for subject, checked in fresh:
            self._set_people(session, actor, subject, checked, fresh=True)
        session.flush()
        self._complete(session, actor, kind, fresh + written)
        self._index(session, [subject for subject, _ in fresh] + list(existing.values()))

    def _new(self, session: Session, kind: str, checked: Checked) -> Subject:
        subject = Subject(
            kind=kind,
            name=checked.draft.name.strip(),
            external_ref=(checked.draft.external_ref or "").strip() or None,
            attributes=checked.attributes,
            spoc_agent_id=None,
            created_at=self.clock.now(),
        )
        session.add(subject)
        return subject

    def _update(self, session: Session, actor: Actor, subject: Subject, checked: Checked) -> None:
        if not self._may_change(session, actor, subject):
            raise PermissionDenied(
                "only an admin or the subject's SPOC may change a private subject"
            )
        subject.name = checked.draft.name.strip()
        subject.external_ref = (checked.draft.external_ref or "").strip() or None
        subject.attributes = checked.attributes
        self._set_people(session, actor, subject, checked, fresh=False)

    def _set_people(
        self, session: Session, actor: Actor, subject: Subject, checked: Checked, *, fresh: bool
    ) -> None:
        """The SPOC and deputies the draft names (kept when it names none), audited when they
        change: who they are decides who is told about, and may see, the subject's requests."""
        old_spoc = None if fresh else subject.spoc_agent_id
        old_deputies = [] if fresh else [d.agent_id for d in subject.deputies]
        new_spoc = checked.spoc_id if checked.draft.spoc is not None else old_spoc
        new_deputies = list(checked.deputy_ids) if checked.deputy_ids is not None else old_deputies
        if (old_spoc, old_deputies) == (new_spoc, new_deputies):
            return
        record_admin_change(
            session,
            actor,
            AuditAction.SUBJECT_PEOPLE,
            "subject",
            subject.id,
            f"Changed the SPOC and deputies of subject {subject.id}",
            at=self.clock.now(),
            before={"spoc": old_spoc, "deputies": old_deputies},
            after={"spoc": new_spoc, "deputies": new_deputies},
        )
        subject.spoc_agent_id = new_spoc
        if not fresh:
            subject.deputies.clear()
            session.flush()  # the old positions go before the new ones take them
        for position, agent_id in enumerate(new_deputies, start=1):
            session.add(SubjectDeputy(subject_id=subject.id, agent_id=agent_id, position=position))

    def _may_change(self, session: Session, actor: Actor, subject: Subject) -> bool:
        return not private_subject_kind(self.host, subject.kind) or may_change_people(
            session, actor, subject
        )

    def _require_kind(self, kind: str) -> None:
        if kind not in self.host.subject_kinds:
            raise ValidationFailed(
                "invalid subject", {"kind": f"no enabled plugin offers subject kind {kind!r}"}
            )

    def _attribute_names(self, kind: str) -> list[str]:
        subject_kind = self.host.subject_kinds.get(kind)
        model = subject_kind.attributes_model if subject_kind is not None else None
        return list(model.model_fields) if model is not None else []

    @staticmethod
    def _by_ref(session: Session, kind: str, refs: Sequence[str]) -> dict[str, Subject]:
        if not refs:
            return {}
        found = session.scalars(
            select(Subject)
            .where(Subject.kind == kind, Subject.external_ref.in_(list(refs)))
            .options(selectinload(Subject.deputies))
        )
        return {s.external_ref or "": s for s in found}


def record_admin_change_summary(
    service: Onboarding, actor: Actor, kind: str, report: ImportReport
) -> None:
    """One trail entry per import run, beside the entries of each SPOC change."""
    with service.db.transaction() as session:
        record_admin_change(
            session,
            actor,
            AuditAction.SUBJECTS_IMPORTED,
            "subject",
            None,
            f"Imported {kind}: created {report.created}, updated {report.updated}",
            at=service.clock.now(),
            after={"kind": kind, "created": report.created, "updated": report.updated},
        )


def _agents(session: Session) -> dict[str, int]:
    """Who may be a SPOC or deputy, by email (an organisation has thousands at most)."""
    rows = session.execute(
        select(Agent.email, Agent.id).where(
            Agent.active.is_(True), Agent.role.in_((Role.ADMIN, Role.AGENT))
        )
    )
    return {email.lower(): agent_id for email, agent_id in rows}
