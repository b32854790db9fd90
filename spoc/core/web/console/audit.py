"""The admin audit log page: who changed who may do or see what, filtered, paged, as CSV.

Filters: action, actor, target (``subject`` or ``subject:12``), a date range in the
organisation's time zone (``from`` and ``to`` are whole days, both included). Newest first,
keyset-paged by id (the cursor travels in ``before``); the CSV carries every filtered row,
fetched in pages.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.audit import AUDIT_ORDER, AuditAction, AuditFilter, audit_query
from spoc.core.domain.models import AdminAuditEntry, Agent
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.storage.keyset import CursorRejected
from spoc.core.web.console.auth import bp, role_required

PAGE = 50
CSV_BATCH = 500
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_id",
    "action",
    "target_kind",
    "target_id",
    "summary",
    "before",
    "after",
)


class _BadFilter(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _day(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadFilter(name, f"{name}: a date like 2026-12-01") from None


def _filter() -> AuditFilter:
    args = request.args
    action = args.get("action", "").strip() or None
    if action is not None and action not in AuditAction.ALL:
        raise _BadFilter("action", "action: choose one from the list")
    actor_text = args.get("actor", "").strip()
    if actor_text and not (actor_text.isdigit() and len(actor_text) <= 9):
        raise _BadFilter("actor", "actor: choose one from the list")
    target_kind, target_id = None, None
    if target := args.get("target", "").strip():
        kind, _, number = target.partition(":")
        if not kind.isidentifier() or len(kind) > 32 or (number and not number.isdigit()):
            raise _BadFilter("target", "target: a kind, or kind:number (subject:12)")
        if number and len(number) > 9:
            raise _BadFilter("target", "target: the number is too large")
        target_kind, target_id = kind, int(number) if number else None
    tz = spoc_of().settings.tz
    first, last = _day("from"), _day("to")
    if first and last and last < first:
        raise _BadFilter("to", "to: not before from")
    since = datetime.combine(first, time(), tz) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), tz) if last else None
    return AuditFilter(
        action=action,
        actor_id=int(actor_text) if actor_text else None,
        target_kind=target_kind,
        target_id=target_id,
        since=since,
        until=until,
    )


@bp.get("/admin/audit")
@role_required(Role.ADMIN)
def admin_audit() -> str | Response:
    spoc = spoc_of()
    error = None
    rows: list[AdminAuditEntry] = []
    next_url = None
    try:
        where = _filter()
        try:
            with spoc.db.reader() as db:
                found = spoc.pager.page(
                    db,
                    audit_query(where),
                    AUDIT_ORDER,
                    limit=PAGE,
                    cursor=request.args.get("before"),
                    field="before",
                )
        except CursorRejected:
            raise _BadFilter("before", "before: not a page of this log") from None
        rows = found.items
        if found.next:
            kept: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before"}
            next_url = url_for("console.admin_audit", before=found.next, **kept)
    except _BadFilter as exc:
        error = str(exc)
    with spoc.db.reader() as db:
        agents = list(db.scalars(select(Agent).order_by(Agent.name).limit(500)))
    filters: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before"}
    page = render_template(
        "console/admin_audit.html",
        rows=rows,
        actions=AuditAction.ALL,
        agents=agents,
        filters=request.args,
        next_url=next_url,
        csv_url=url_for("console.admin_audit_csv", **filters),
        error=error,
        tz=spoc.settings.tz,
    )
    if error:
        return Response(page, status=400, mimetype="text/html")
    return page


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/admin/audit.csv")
@role_required(Role.ADMIN)
def admin_audit_csv() -> Response:
    spoc = spoc_of()
    try:
        where = _filter()
    except _BadFilter as exc:
        return Response(str(exc) + "\n", status=400, mimetype="text/plain")

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        cursor: str | None = None
        while True:
            with spoc.db.reader() as db:
                batch = spoc.pager.page(
                    db, audit_query(where), AUDIT_ORDER, limit=CSV_BATCH, cursor=cursor
                )
            for e in batch.items:
                writer.writerow(
                    [
                        e.id,
                        e.at.isoformat(),
                        _cell(e.actor_name),
                        e.actor_id if e.actor_id is not None else "",
                        e.action,
                        e.target_kind,
                        e.target_id if e.target_id is not None else "",
                        _cell(e.summary),
                        _cell(json.dumps(e.before, sort_keys=True)),
                        _cell(json.dumps(e.after, sort_keys=True)),
                    ]
                )
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if batch.next is None:
                return
            cursor = batch.next

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="admin-audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
