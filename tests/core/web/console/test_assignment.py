"""The teams page sets a team's assignment rule."""

from __future__ import annotations

from spoc.core.domain.models import Team
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, build_org, csrf_token, login


def test_an_admin_sets_the_rule_on_the_teams_page(make_app: AppFactory) -> None:
    app = make_app()
    org = build_org(spoc_of(app))
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    page = admin.get("/console/admin/teams").get_data(as_text=True)
    assert "each member in turn (round-robin)" in page
    token = csrf_token(admin, "/console/admin/teams")
    admin.post(
        f"/console/admin/teams/{org.desk.id}/assignment",
        data={"csrf_token": token, "assignment": "least_open", "cap": "5"},
    )
    with org.spoc.db.reader() as session:
        desk = session.get(Team, org.desk.id)
        assert desk is not None and (desk.assignment, desk.assignment_cap) == ("least_open", 5)
