"""Subjects created, edited and imported from the console, with forms generated from the kind's
attributes model (the same generator as the portal's request forms). The domain checks and
audits: :mod:`spoc.core.domain.onboarding`."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from spoc.core.domain.directory import spoc_capable_agents
from spoc.core.domain.imports import MAX_DEPUTIES, ImportReport, SubjectDraft
from spoc.core.domain.models import Subject
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Role, SubjectKind
from spoc.core.services import spoc_of
from spoc.core.web.console.access import guard
from spoc.core.web.console.auth import STAFF, actor, bp, role_required
from spoc.core.web.console.import_jobs import queued
from spoc.core.web.forms import FormSpec, form_spec, read_form


def _kind_or_404(key: str) -> SubjectKind:
    kind = spoc_of().host.subject_kinds.get(key)
    if kind is None:
        abort(404)
    return kind


def _spec(kind: SubjectKind) -> FormSpec:
    """The kind's attributes, then the fields of the plugin structure completing it."""
    spec = form_spec(kind.attributes_model) if kind.attributes_model else FormSpec(())
    structure = spoc_of().host.completing(kind.key)
    if structure is None:
        return spec
    return FormSpec(spec.fields + form_spec(structure.fields_model).fields)


def _detail_names(kind: SubjectKind) -> set[str]:
    structure = spoc_of().host.completing(kind.key)
    return set(structure.field_names) if structure is not None else set()


def _render(
    kind: SubjectKind,
    subject: Subject | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    with spoc_of().db.reader() as db:
        agents = spoc_capable_agents(db)
    page = render_template(
        "console/subject_form.html",
        kind=kind,
        subject=subject,
        spec=_spec(kind),
        values=values,
        errors=errors,
        agents=agents,
        deputy_slots=range(1, MAX_DEPUTIES + 1),
    )
    return page, status


def _values_of(db: Session, subject: Subject) -> dict[str, Any]:
    emails = {d.position: d.agent.email for d in subject.deputies}
    structure = spoc_of().host.completing(subject.kind)
    details = structure.values(db, subject.id) if structure and structure.values else None
    return {
        **subject.attributes,
        **(details or {}),
        "subject_name": subject.name,
        "external_ref": subject.external_ref or "",
        "spoc": subject.spoc.email if subject.spoc else "",
        **{f"deputy{p}": e for p, e in emails.items()},
    }


def _save(kind: SubjectKind, subject: Subject | None) -> Response | tuple[str, int]:
    form = request.form
    spec = _spec(kind)
    read, _ = read_form(spec, form)  # blanks left out; the model says what is missing
    names = _detail_names(kind)
    attributes = {k: v for k, v in read.items() if k not in names}
    details = {k: v for k, v in read.items() if k in names}
    values: dict[str, Any] = {
        **read,
        **{k: form.get(k, "") for k in ("subject_name", "external_ref", "spoc")},
        **{f"deputy{i}": form.get(f"deputy{i}", "") for i in range(1, MAX_DEPUTIES + 1)},
    }
    deputies = [values[f"deputy{i}"] for i in range(1, MAX_DEPUTIES + 1) if values[f"deputy{i}"]]
    draft = SubjectDraft(
        name=values["subject_name"],
        external_ref=values["external_ref"].strip() or None,
        spoc=values["spoc"],
        deputies=deputies,
        attributes=attributes,
        details=details,
    )
    try:
        saved = spoc_of().onboarding.save_subject(
            actor(), kind.key, draft, subject_id=subject.id if subject else None
        )
    except ValidationFailed as exc:
        errors = {_form_name(k): v for k, v in exc.errors.items()} or {"__all__": str(exc)}
        return _render(kind, subject, values, errors, 422)
    except PermissionDenied as exc:
        return _render(kind, subject, values, {"__all__": str(exc)}, 403)
    except NotFoundError:
        abort(404)
    flash(f"{kind.title} {saved.name} saved.", "success")
    return redirect(url_for("console.subject_detail", subject_id=saved.id), code=303)


def _form_name(path: str) -> str:
    # The domain names fields as the API does ("attributes.date_of_birth", "name"); the form
    # names its inputs after the model's fields, and the subject's name "subject_name".
    if path == "name":
        return "subject_name"
    return path.removeprefix("attributes.").removeprefix("details.").split(".", 1)[0]


@bp.route("/subjects/new/<kind_key>", methods=["GET", "POST"])
@role_required(*STAFF)
def subject_new(kind_key: str) -> Response | tuple[str, int]:
    kind = _kind_or_404(kind_key)
    if request.method == "GET":
        return _render(kind, None, {}, {})
    return _save(kind, None)


@bp.route("/subjects/<int:subject_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def subject_edit(subject_id: int) -> Response | tuple[str, int]:
    if (refused := guard("subject", subject_id=subject_id)) is not None:
        return refused
    with spoc_of().db.reader() as db:
        subject = db.get(Subject, subject_id)
        if subject is None:
            abort(404)
        values = _values_of(db, subject)
    kind = _kind_or_404(subject.kind)
    if request.method == "GET":
        return _render(kind, subject, values, {})
    return _save(kind, subject)


@bp.route("/subjects/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def subjects_import() -> Response | tuple[str, int]:
    spoc = spoc_of()
    kinds = list(spoc.host.subject_kinds)
    report: ImportReport | None = None
    error = None
    status = 200
    kind_key = request.form.get("kind", request.args.get("kind", ""))
    if request.method == "POST":
        upload = request.files.get("file")
        dry_run = request.form.get("mode") != "import"
        if upload is None or not upload.filename:
            error, status = "file: choose a CSV file", 422
        elif (
            job := queued("subjects", kind_key, upload.stream, upload.filename, dry_run)
        ) is not None:
            return job  # a large file: the worker imports it, its page shows the progress
        else:
            # The upload is spooled to disk by werkzeug past a small size, so the two passes
            # read it from there, one batch at a time, never as a whole in memory.
            stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
            try:
                report = spoc.onboarding.import_csv(actor(), kind_key, stream, dry_run=dry_run)
            except ValidationFailed as exc:
                error, status = str(exc), 422
            finally:
                stream.detach()
            if report is not None and not report.ok:
                status = 422
    page = render_template(
        "console/subjects_import.html",
        kinds=kinds,
        kind_key=kind_key,
        report=report,
        error=error,
        attribute_columns=_attribute_columns(kinds, kind_key),
    )
    return page, status


def _attribute_columns(kinds: list[SubjectKind], key: str) -> list[str]:
    kind = next((k for k in kinds if k.key == key), None)
    if kind is None:
        return []
    return [f.name for f in _spec(kind).fields]
