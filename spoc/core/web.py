"""The core's operational endpoints."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from spoc.core.app import spoc_of

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200
