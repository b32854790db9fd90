"""The BI view on PostgreSQL: one row per request with its clock figures, and read-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import Org


def test_the_view_has_one_row_per_request_and_refuses_writes(org: Org) -> None:
    db = org.spoc.db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the BI view is PostgreSQL's (SQLite deployments have the CSV export)")
    rid = org.file()
    with db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT request_id, channel, status FROM spoc_report_requests")
        ).one()
        assert tuple(row) == (rid, "portal", "new")
        columns = conn.execute(text("SELECT * FROM spoc_report_requests")).keys()
        assert "summary" not in columns and "owner_team_name" in columns
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(text("UPDATE spoc_report_requests SET status = 'closed'"))
