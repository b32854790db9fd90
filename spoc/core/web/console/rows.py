"""Contacts and plugins' structure items created, edited and imported from the console, with
forms generated from their models. The domain checks and audits:
:mod:`spoc.core.domain.contacts`, :mod:`spoc.core.domain.structures`."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from spoc.core.domain.contacts import COLUMNS, ContactForm
from spoc.core.domain.imports import ImportReport
from spoc.core.domain.models import Contact, Subject
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.structures import PARENT_COLUMN, Structure
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.console.access import guard
from spoc.core.web.console.auth import STAFF, actor, bp, role_required
from spoc.core.web.console.import_jobs import queued
from spoc.core.web.forms import FormSpec, form_spec, read_form

CONTACT_SPEC = form_spec(ContactForm)


def _form_page(
    title: str,
    back: tuple[str, str],
    spec: FormSpec,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    lead: str = "",
) -> tuple[str, int]:
    page = render_template(
        "console/model_form.html",
        title=title,
        back=back,
        spec=spec,
        values=values,
        errors=errors,
        lead=lead,
    )
    return page, status


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {k.split(".", 1)[0]: v for k, v in exc.errors.items()} or {"__all__": str(exc)}


# --- contacts -----------------------------------------------------------------------------


def _contact_values(contact: Contact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone or "",
        "language": contact.language,
    }


@bp.route("/admin/contacts/new", methods=["GET", "POST"])
@bp.route("/admin/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def contact_form(contact_id: int | None = None) -> Response | tuple[str, int]:
    values: dict[str, Any] = {}
    if contact_id is not None:
        with spoc_of().db.reader() as db:
            contact = db.get(Contact, contact_id)
            if contact is None:
                abort(404)
            values = _contact_values(contact)
    title = "Edit contact" if contact_id else "New contact"
    back = (url_for("console.admin_contacts", email=values.get("email", "")), "Contacts")
    if request.method == "GET":
        return _form_page(title, back, CONTACT_SPEC, values, {})
    read, _ = read_form(CONTACT_SPEC, request.form)
    values = {**values, **{k: request.form.get(k, "") for k in COLUMNS}}
    if not request.form.get("phone", "").strip():
        read["phone"] = None  # blanked: removed
    try:
        saved = spoc_of().contacts.save_contact(actor(), read, contact_id=contact_id)
    except ValidationFailed as exc:
        return _form_page(title, back, CONTACT_SPEC, values, _errors(exc), 422)
    except NotFoundError:
        abort(404)
    flash(f"Contact {saved.name} saved.", "success")
    return redirect(url_for("console.admin_contacts", email=saved.email), code=303)


def _import_page(
    title: str,
    what: str,
    columns: list[str],
    run: Callable[[io.TextIOWrapper, bool], ImportReport],
    choices: list[tuple[str, str]] | None = None,
    chosen: str = "",
) -> Response | tuple[str, int]:
    report: ImportReport | None = None
    error = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        dry_run = request.form.get("mode") != "import"
        if upload is None or not upload.filename:
            error, status = "file: choose a CSV file", 422
        elif (job := queued(what, chosen, upload.stream, upload.filename, dry_run)) is not None:
            return job  # a large file: the worker imports it, its page shows the progress
        else:
            # Spooled to disk by werkzeug past a small size: each pass reads it from there.
            stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
            try:
                report = run(stream, dry_run)
            except ValidationFailed as exc:
                detail = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
                error, status = detail or str(exc), 422
            except PermissionDenied as exc:
                error, status = str(exc), 403
            finally:
                stream.detach()
            if report is not None and not report.ok:
                status = 422
    page = render_template(
        "console/rows_import.html",
        title=title,
        columns=columns,
        report=report,
        error=error,
        choices=choices,
        chosen=chosen,
    )
    return page, status


@bp.route("/admin/contacts/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def contacts_import() -> Response | tuple[str, int]:
    contacts = spoc_of().contacts
    return _import_page(
        "Import contacts",
        "contacts",
        list(COLUMNS),
        lambda stream, dry_run: contacts.import_csv(actor(), stream, dry_run=dry_run),
    )


# --- plugins' structures under a subject ----------------------------------------------------


def children_of(kind: str) -> list[Structure]:
    """The child structures whose parent is a subject of ``kind`` (the subject page's links)."""
    return [s for s in spoc_of().host.structures if s.parent_kind == kind]


@bp.route("/subjects/<int:subject_id>/structures/<key>", methods=["GET", "POST"])
@role_required(*STAFF)
def structure_item(subject_id: int, key: str) -> Response | tuple[str, int]:
    if (refused := guard("subject", subject_id=subject_id)) is not None:
        return refused
    spoc = spoc_of()
    structure = spoc.host.structures.get(key)
    with spoc.db.reader() as db:
        subject = db.get(Subject, subject_id)
        if subject is None or structure is None or structure.parent_kind != subject.kind:
            abort(404)
        item_id = request.args.get("item", type=int)
        values: dict[str, Any] = {}
        if item_id is not None and structure.values is not None:
            values = dict(structure.values(db, item_id) or {})
        name = subject.name
    spec = form_spec(structure.fields_model)
    title = f"{structure.title} of {name}"
    back = (url_for("console.subject_detail", subject_id=subject_id), name)
    if request.method == "GET":
        return _form_page(title, back, spec, values, {}, lead=structure.description)
    read, missing = read_form(spec, request.form)
    values = {**values, **{f.name: request.form.get(f.name, "") for f in spec.fields}}
    try:
        if missing:
            raise ValidationFailed("invalid", missing)
        saved = spoc.structures.save_item(actor(), key, subject_id, read)
    except ValidationFailed as exc:
        return _form_page(title, back, spec, values, _errors(exc), 422, structure.description)
    except PermissionDenied as exc:
        return _form_page(title, back, spec, values, {"__all__": str(exc)}, 403)
    except NotFoundError:
        abort(404)
    flash(f"{structure.title} {saved.value}.", "success")
    return redirect(url_for("console.subject_detail", subject_id=subject_id), code=303)


@bp.route("/structures/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def structures_import() -> Response | tuple[str, int]:
    spoc = spoc_of()
    children = [s for s in spoc.host.structures if s.parent_kind is not None]
    key = request.form.get("structure", request.args.get("structure", ""))
    chosen = spoc.host.structures.get(key)
    columns = [PARENT_COLUMN, *chosen.field_names] if chosen is not None else []
    return _import_page(
        "Import structures",
        "structures",
        columns,
        lambda stream, dry_run: spoc.structures.import_csv(actor(), key, stream, dry_run=dry_run),
        [(s.key, s.title) for s in children],
        key,
    )
