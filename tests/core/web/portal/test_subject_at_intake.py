"""Subject at intake: a requester signed in by magic link is offered their own subjects, a
choice among them files the request there, and nothing else the form sends does."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc.core.domain.models import Request
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Inbox, Org, build_org, csrf_token
from tests.core.web.portal.test_portal import file_request

FORM = "/new/generic.question"


@pytest.fixture
def portal(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])


@pytest.fixture
def org(portal: Flask) -> Org:
    return build_org(spoc_of(portal))


def signed_in(portal: Flask, inbox: Inbox, email: str) -> FlaskClient:
    client = portal.test_client()
    client.post("/my-requests", data={"csrf_token": csrf_token(client), "email": email})
    spoc_of(portal).outbox.deliver_due()
    assert client.get(inbox.link(), follow_redirects=True).status_code == 200
    return client


def count(portal: Flask) -> int:
    with spoc_of(portal).db.reader() as session:
        return session.scalar(select(func.count()).select_from(Request)) or 0


def test_a_signed_in_requester_is_offered_their_subjects_and_files_into_one(
    portal: Flask, org: Org, inbox: tuple[Inbox, int]
) -> None:
    anonymous = portal.test_client()
    assert file_request(anonymous, reference="NW-1")[0] == 303  # an earlier request, on record
    assert 'name="subject_choice"' not in anonymous.get(FORM).get_data(as_text=True)

    client = signed_in(portal, inbox[0], "maria@example.com")
    page = client.get(FORM).get_data(as_text=True)
    assert 'name="subject_choice"' in page and "Northwind Traders" in page
    assert 'value="maria@example.com"' in page  # the signed-in contact's details pre-filled
    status, _ = file_request(client, subject_choice=str(org.account.id), summary="Credit note?")
    assert status == 303
    with spoc_of(portal).db.reader() as session:
        filed = session.scalars(select(Request).order_by(Request.id.desc())).first()
    assert filed is not None and filed.summary == "Credit note?"
    assert filed.subject_id == org.account.id and filed.owner_agent_id == org.dana.id


def test_a_choice_outside_the_requesters_subjects_is_refused_and_files_nothing(
    portal: Flask, org: Org, inbox: tuple[Inbox, int]
) -> None:
    spoc = spoc_of(portal)
    other = spoc.directory.add_subject(
        kind="generic.account", name="Contoso", spoc_agent_id=org.lee.id, external_ref="CO-9"
    )
    assert file_request(portal.test_client(), reference="NW-1")[0] == 303
    client = signed_in(portal, inbox[0], "maria@example.com")
    before = count(portal)
    for forged in (str(other.id), "0", "not-a-number"):
        response = client.post(
            FORM,
            data={
                "csrf_token": csrf_token(client, FORM),
                "requester_name": "Maria Anders",
                "requester_email": "maria@example.com",
                "summary": "Please move this to Contoso",
                "subject_choice": forged,
            },
        )
        assert response.status_code == 422
        assert 'id="f-subject_choice-error"' in response.get_data(as_text=True)
    # Without the magic link, a chosen id is no proof of anything either.
    stranger = portal.test_client()
    assert file_request(stranger, subject_choice=str(org.account.id))[0] == 422
    assert count(portal) == before


def test_the_reference_field_names_what_the_request_type_is_about(make_app: AppFactory) -> None:
    app = make_app(plugins=["generic", "projects"])
    page = app.test_client().get("/new/projects.question").get_data(as_text=True)
    assert "Which portfolio, project or workstream?" in page
