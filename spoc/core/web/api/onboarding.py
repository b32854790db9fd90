"""Batches of contacts and of plugins' structure items, as ``POST /subjects`` takes subjects:
checked whole first, written only when every item is clean, idempotent by natural key."""

from __future__ import annotations

from flask import Response, request

import spoc.core.web.api.schemas as s
from spoc.core.domain.imports import ImportReport
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.services import spoc_of
from spoc.core.web.api.base import ProblemError, json_body, operation, parse, require_agent, respond


def _answer(report: ImportReport, dry_run: bool) -> Response:
    if report.error_count:
        raise ProblemError(
            422,
            "Validation failed",
            f"{report.error_count} errors; nothing was written",
            errors=[
                {"field": f"body.{e.line - 1}.{e.field}", "message": e.message}
                for e in report.errors
            ],
        )
    return respond(
        s.SubjectBatchOut(dry_run=dry_run, created=report.created, updated=report.updated)
    )


def _refused(exc: ValidationFailed) -> ProblemError:
    return ProblemError(
        422,
        "Validation failed",
        str(exc),
        errors=[{"field": k, "message": v} for k, v in exc.errors.items()],
    )


@operation(
    "POST",
    "/contacts",
    summary="Create or update contacts in a batch",
    tag="directory",
    body=s.ContactBatch,
    query=s.SubjectBatchQuery,
    response=s.SubjectBatchOut,
    errors=(400, 401, 403, 422),
)
def import_contacts() -> Response:
    """Admins only. Each item is found by email: updated when it exists, created otherwise,
    so sending the same batch again changes nothing more. A 422 lists each error as
    ``body.<index>.<field>``."""
    actor = require_agent()
    query: s.SubjectBatchQuery = parse(s.SubjectBatchQuery, request.args.to_dict(), "query")
    batch: s.ContactBatch = json_body(s.ContactBatch)
    items = [item.model_dump(exclude_none=True) for item in batch.root]
    try:
        report = spoc_of().contacts.import_items(actor, items, dry_run=query.dry_run)
    except ValidationFailed as exc:
        raise _refused(exc) from None
    return _answer(report, query.dry_run)


@operation(
    "POST",
    "/structures/{key}",
    summary="Create or update a plugin structure's items in a batch",
    tag="directory",
    body=s.StructureBatch,
    query=s.SubjectBatchQuery,
    response=s.SubjectBatchOut,
    errors=(400, 401, 403, 404, 422),
)
def import_structure(key: str) -> Response:
    """Admins only. Items of a plugin's child structure (``events.vendor``,
    ``logistics.account_contact``…): ``parent`` names the parent subject by its
    external_ref; the item is found again by the structure's key fields under it."""
    actor = require_agent()
    query: s.SubjectBatchQuery = parse(s.SubjectBatchQuery, request.args.to_dict(), "query")
    batch: s.StructureBatch = json_body(s.StructureBatch)
    structures = spoc_of().structures
    try:
        structures.structure(key)
    except ValidationFailed:
        raise ProblemError(404, "Not found", f"no structure {key}") from None
    try:
        report = structures.import_items(actor, key, batch.root, dry_run=query.dry_run)
    except ValidationFailed as exc:
        raise _refused(exc) from None
    return _answer(report, query.dry_run)
