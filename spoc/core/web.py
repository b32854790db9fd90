"""The core's own pages: a landing page listing what can be asked, and a health check."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, render_template
from sqlalchemy import text

from spoc.core.app import spoc_of

bp = Blueprint("core", __name__)


@bp.get("/")
def home() -> str:
    spoc = spoc_of()
    request_types = list(spoc.host.request_types)
    groups = [
        (group, list(items))
        for group, items in groupby(sorted(request_types, key=lambda t: t.group), lambda t: t.group)
    ]
    return render_template("core/home.html", groups=groups, plugins=spoc.host.enabled)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200
