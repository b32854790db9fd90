"""The agent console through the Flask test client: sign-in, queues, request actions, roles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from spoc import Actor, FrozenClock, Priority, Status
from spoc.core.services import spoc_of
from tests.conftest import PASSWORD, AppFactory, Org, build_org, csrf_token, give_password, login


@pytest.fixture
def web(app: Flask, org: Org) -> tuple[Flask, Org]:
    return app, org


def signed_in(app: Flask, org: Org, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, org.spoc, getattr(org, who))
    return client


def post(client: FlaskClient, url: str, **data: str) -> int:
    data.setdefault("csrf_token", csrf_token(client, "/console/absences"))
    return client.post(url, data=data).status_code


# --- sign-in ------------------------------------------------------------------------------


def test_console_needs_sign_in(web: tuple[Flask, Org]) -> None:
    app, _ = web
    response = app.test_client().get("/console/queues/mine")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/login?next=")


def test_sign_in_sets_a_hardened_session_cookie(make_app: AppFactory) -> None:
    app = make_app(env="production", secret_key="k" * 40)
    org = build_org(spoc_of(app))
    client = app.test_client()
    give_password(org.spoc, org.dana)
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login",
        data={"csrf_token": token, "email": "dana@example.org", "password": PASSWORD},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_unknown_email_gets_the_same_answer(web: tuple[Flask, Org]) -> None:
    app, _ = web
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    page = client.post(
        "/console/login", data={"csrf_token": token, "email": "x@example.org", "password": "y"}
    )
    assert page.status_code == 401
    assert "Email or password is not right." in page.get_data(as_text=True)


def test_next_parameter_never_leaves_the_site(web: tuple[Flask, Org]) -> None:
    app, org = web
    give_password(org.spoc, org.dana)
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login",
        data={
            "csrf_token": token,
            "email": "dana@example.org",
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["Location"] == "/console/queues/mine"


def test_logout_ends_the_session(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org, "dana")
    assert post(client, "/console/logout") == 303
    assert client.get("/console/queues/mine").status_code == 303


def test_deactivated_agent_is_signed_out_at_next_click(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org, "dana")
    org.spoc.directory.update_agent(org.actor(org.ada), org.dana.id, active=False)
    assert client.get("/console/queues/mine").status_code == 303


def test_login_is_rate_limited(make_app: AppFactory) -> None:
    app = make_app(login_limit="3 per minute")
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    codes = [
        client.post(
            "/console/login", data={"csrf_token": token, "email": "a@b.c", "password": "x"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


# --- queues -------------------------------------------------------------------------------


def test_queues_show_what_each_agent_acts_for(web: tuple[Flask, Org]) -> None:
    app, org = web
    mine = org.file(fields={"summary": "For Dana"})
    org.spoc.directory.add_absence(org.dana.id, date(2026, 3, 2), date(2026, 3, 4))
    covered = org.file(fields={"summary": "Lee covers this"})
    triage = org.file(fields={"summary": "Nobody knows whose"}, subject_id=None)
    escalated = org.file(fields={"summary": "Needs the specialists"})
    org.spoc.escalations.escalate(
        escalated, org.actor(org.lee), team_key="specialists", reason="hard"
    )

    def listed(client: FlaskClient, queue: str) -> str:
        response = client.get(f"/console/queues/{queue}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    dana = signed_in(app, org, "dana")
    assert "For Dana" in listed(dana, "mine") and "Lee covers this" not in listed(dana, "mine")
    lee = signed_in(app, org, "lee")
    covering = listed(lee, "covering")
    assert "Lee covers this" in covering and "For Dana" not in covering
    sam = signed_in(app, org, "sam")
    assert "Nobody knows whose" in listed(sam, "triage")
    kim = signed_in(app, org, "kim")
    escalations = listed(kim, "escalations")
    assert "Needs the specialists" in escalations and "For Dana" not in escalations
    assert kim.get("/console/queues/all").status_code == 404  # not a specialist's queue
    ada = signed_in(app, org, "ada")
    everything = listed(ada, "all")
    assert all(f"REQ-{i:05d}" in everything for i in (mine, covered, triage, escalated))


def test_queue_filters_search_and_pages(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app()
    org = build_org(spoc_of(app))
    for i in range(30):
        clock.advance(timedelta(minutes=1))
        org.file(fields={"summary": f"Question {i:02d}"})
    urgent = org.file(
        type_key="generic.incident",
        fields={
            "summary": "Everything is down",
            "description": "all",
            "impact": "high",
            "urgency": "high",
        },
    )
    client = signed_in(app, org, "dana")
    first = client.get("/console/queues/mine").get_data(as_text=True)
    assert first.index("Everything is down") < first.index("Question 00")  # most urgent first
    assert "Question 23" in first and "Question 24" not in first  # 25 per page
    next_url = first.split('<p><a href="')[-1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "Question 24" in second and "Question 29" in second and "Question 00" not in second
    only_p1 = client.get("/console/queues/mine?priority=P1").get_data(as_text=True)
    assert "Everything is down" in only_p1 and "Question" not in only_p1
    by_ref = client.get(f"/console/queues/mine?q=REQ-{urgent:05d}").get_data(as_text=True)
    assert "Everything is down" in by_ref and "Question" not in by_ref
    by_email = client.get("/console/queues/mine?q=MARIA@example.com").get_data(as_text=True)
    assert "Question 05" in by_email
    assert client.get("/console/queues/mine?after=garbage").status_code == 400


# --- request page and actions -------------------------------------------------------------


def test_request_page_shows_fields_people_and_both_kinds_of_timeline(
    web: tuple[Flask, Org],
) -> None:
    app, org = web
    rid = org.file()
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Public hello")
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Private thought", internal=True)
    page = signed_in(app, org, "lee").get(f"/console/requests/{rid}").get_data(as_text=True)
    assert "Where is my invoice?" in page and "maria@example.com" in page
    assert "SPOC: Dana Reyes" in page and "Deputy 1: Lee Chen" in page
    assert '<li class="event public">' in page and '<li class="event internal">' in page
    assert '<option value="waiting">Waiting</option>' in page  # allowed from open


def test_agent_replies_moves_status_escalates_and_hands_back(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file()
    dana = signed_in(app, org, "dana")
    base = f"/console/requests/{rid}"
    assert post(dana, f"{base}/reply", body="We are on it", version="1") == 303
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.status is Status.OPEN and request.version == 2
    assert post(dana, f"{base}/status", target="waiting", version="2") == 303
    assert post(dana, f"{base}/escalate", team="specialists", reason="ledger", version="3") == 303
    kim = signed_in(app, org, "kim")
    assert post(kim, f"{base}/note", body="Fixed the ledger", version="4") == 303
    assert post(kim, f"{base}/hand_back", note="done", version="5") == 303
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.status, request.escalation_level, request.owner_agent_id) == (
        Status.WAITING,
        0,
        org.dana.id,
    )
    assert (
        post(dana, f"{base}/priority", priority="P2", reason="customer escalated", version="6")
        == 303
    )
    assert post(dana, f"{base}/assign", agent_id=str(org.sam.id), version="7") == 303
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.priority, request.owner_agent_id) == (Priority.P2, org.sam.id)


def test_triage_links_a_request_to_its_subject(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file(subject_id=None)
    client = signed_in(app, org, "sam")
    assert post(client, f"/console/requests/{rid}/link", subject="NW-1") == 303
    assert org.spoc.requests.get(rid, Actor.system()).owner_agent_id == org.dana.id
    response = client.post(
        f"/console/requests/{rid}/link",
        data={"csrf_token": csrf_token(client, "/console/absences"), "subject": "nope"},
        follow_redirects=True,
    )
    assert "no single subject with reference" in response.get_data(as_text=True)


def test_stale_form_is_refused_with_nothing_changed(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file()
    client = signed_in(app, org, "dana")
    org.spoc.requests.post_message(rid, org.actor(org.lee), "Lee got there first")
    response = client.post(
        f"/console/requests/{rid}/status",
        data={
            "csrf_token": csrf_token(client, "/console/absences"),
            "target": "waiting",
            "version": "1",
        },
        follow_redirects=True,
    )
    assert "Someone else changed this request" in response.get_data(as_text=True)
    assert org.spoc.requests.get(rid, Actor.system()).status is Status.OPEN


def test_viewer_reads_but_cannot_act(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file()
    val = signed_in(app, org, "val")
    page = val.get(f"/console/requests/{rid}").get_data(as_text=True)
    assert "Where is my invoice?" in page and "Send reply" not in page
    for action, data in (
        ("reply", {"body": "x"}),
        ("status", {"target": "open"}),
        ("note", {"body": "x"}),
    ):
        assert post(val, f"/console/requests/{rid}/{action}", **data) == 403
    assert post(val, f"/console/subjects/{org.account.id}/people", spoc=str(org.lee.id)) == 403
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.version, request.status) == (1, Status.NEW)


def test_specialist_cannot_open_requests_outside_their_teams(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file()
    kim = signed_in(app, org, "kim")
    assert kim.get(f"/console/requests/{rid}").status_code == 404
    assert post(kim, f"/console/requests/{rid}/note", body="peek") == 404
    assert org.spoc.requests.get(rid, Actor.system()).version == 1


def test_missing_csrf_token_is_refused_in_the_console(web: tuple[Flask, Org]) -> None:
    app, org = web
    rid = org.file()
    client = signed_in(app, org, "dana")
    response = client.post(f"/console/requests/{rid}/reply", data={"body": "no token"})
    assert response.status_code == 400
    assert org.spoc.requests.get(rid, Actor.system()).version == 1


def test_hook_console_panels_show_on_the_request_page(make_app: AppFactory) -> None:
    app = make_app(plugins=["generic", "facilities"])
    org = build_org(spoc_of(app))
    manager = org.spoc.directory.add_subject(
        kind="facilities.building", name="HQ", spoc_agent_id=org.dana.id
    )
    rid = org.spoc.requests.create(
        type_key="facilities.repair",
        fields={"summary": "Leaking tap", "location": "Kitchen"},
        requester={"name": "Ravi", "email": "ravi@example.com"},
        subject_id=manager.id,
    ).id
    page = signed_in(app, org, "dana").get(f"/console/requests/{rid}").get_data(as_text=True)
    assert "<h2>Work order</h2>WO-0001 is open since 02 Mar 09:00 UTC." in page


# --- subjects, absences, admin ------------------------------------------------------------


def test_subjects_list_detail_and_editing_people(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org, "lee")
    assert "Northwind Traders" in client.get("/console/subjects?q=North").get_data(as_text=True)
    page = client.get(f"/console/subjects/{org.account.id}").get_data(as_text=True)
    assert "Dana Reyes is the SPOC for Northwind Traders" in page
    code = post(
        client,
        f"/console/subjects/{org.account.id}/people",
        spoc=str(org.lee.id),
        deputy1=str(org.sam.id),
        deputy2=str(org.dana.id),
    )
    assert code == 303
    with org.spoc.db.reader() as session:
        from spoc.core.domain.models import Subject

        subject = session.get(Subject, org.account.id)
        assert subject is not None
        assert subject.spoc_agent_id == org.lee.id
        assert [d.agent_id for d in subject.deputies] == [org.sam.id, org.dana.id]


def test_intake_link_is_shown_once_and_works(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org, "lee")
    response = client.post(
        f"/console/subjects/{org.account.id}/intake-link",
        data={"csrf_token": csrf_token(client, "/console/absences"), "label": "Website"},
    )
    html = response.get_data(as_text=True)
    link = html.split('<p class="mono break">')[1].split("</p>")[0]
    path = link.removeprefix("http://127.0.0.1:5000")
    assert "How can we help with Northwind Traders?" in app.test_client().get(path).get_data(
        as_text=True
    )


def test_agents_manage_their_own_absences_not_others(web: tuple[Flask, Org]) -> None:
    app, org = web
    lee = signed_in(app, org, "lee")
    assert (
        post(
            lee,
            f"/console/agents/{org.lee.id}/absences",
            starts_on="2026-03-10",
            ends_on="2026-03-12",
        )
        == 303
    )
    assert "2026-03-12" in lee.get("/console/absences").get_data(as_text=True)
    response = lee.post(
        f"/console/agents/{org.dana.id}/absences",
        data={
            "csrf_token": csrf_token(lee, "/console/absences"),
            "starts_on": "2026-03-10",
            "ends_on": "2026-03-12",
        },
        follow_redirects=True,
    )
    assert "only the agent or an admin" in response.get_data(as_text=True)
    bad = lee.post(
        f"/console/agents/{org.lee.id}/absences",
        data={
            "csrf_token": csrf_token(lee, "/console/absences"),
            "starts_on": "2026-03-12",
            "ends_on": "2026-03-10",
        },
        follow_redirects=True,
    )
    assert "ends before it starts" in bad.get_data(as_text=True)


def test_only_admins_administer(web: tuple[Flask, Org]) -> None:
    app, org = web
    lee = signed_in(app, org, "lee")
    for url in (
        "/console/admin/agents",
        "/console/admin/teams",
        "/console/admin/plugins",
        f"/console/admin/agents/{org.dana.id}",
    ):
        assert lee.get(url).status_code == 403
    assert (
        post(
            lee,
            "/console/admin/agents",
            email="x@example.org",
            name="X",
            role="admin",
            password=PASSWORD,
        )
        == 403
    )
    ada = signed_in(app, org, "ada")
    for url in (
        "/console/admin/agents",
        "/console/admin/teams",
        "/console/admin/plugins",
        f"/console/admin/agents/{org.dana.id}",
    ):
        assert ada.get(url).status_code == 200
    assert (
        post(
            ada,
            "/console/admin/agents",
            email="new@example.org",
            name="New Person",
            role="agent",
            password=PASSWORD,
        )
        == 303
    )
    assert (
        post(ada, f"/console/admin/agents/{org.dana.id}", role="viewer") == 303
    )  # active unticked
    assert post(ada, "/console/admin/teams", key="billing", name="Billing") == 303
    assert (
        post(ada, f"/console/admin/teams/{org.specialists.id}/members", members=str(org.sam.id))
        == 303
    )
    with org.spoc.db.reader() as session:
        from spoc.core.domain.models import Agent, Team

        dana = session.get(Agent, org.dana.id)
        assert dana is not None and (dana.role.value, dana.active) == ("viewer", False)
        assert session.query(Agent).filter_by(email="new@example.org").count() == 1
        specialists = session.get(Team, org.specialists.id)
        assert specialists is not None and [m.id for m in specialists.members] == [org.sam.id]
    assert "generic" in ada.get("/console/admin/plugins").get_data(as_text=True)


def test_admin_cannot_lock_themselves_out(web: tuple[Flask, Org]) -> None:
    app, org = web
    ada = signed_in(app, org, "ada")
    response = ada.post(
        f"/console/admin/agents/{org.ada.id}",
        data={"csrf_token": csrf_token(ada, "/console/absences"), "role": "agent", "active": "on"},
        follow_redirects=True,
    )
    assert "cannot lock yourself out" in response.get_data(as_text=True)
