"""The core's operational endpoints."""

from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import text

from spoc.core.services import spoc_of

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    spoc = spoc_of()
    with spoc.db.reader() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
