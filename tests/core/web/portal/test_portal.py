"""The stakeholder portal through the Flask test client: what a requester sees and does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc import Actor, FrozenClock, Status
from spoc.core.domain.models import Contact, Feedback, Request
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Inbox, Org, build_org, csrf_token


@pytest.fixture
def portal(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])


@pytest.fixture
def people(portal: Flask) -> Org:
    return build_org(spoc_of(portal))


def count(app: Flask, model: type) -> int:
    with spoc_of(app).db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def file_request(client: FlaskClient, **overrides: str) -> tuple[int, str]:
    data = {
        "csrf_token": csrf_token(client),
        "requester_name": "Maria Anders",
        "requester_email": "maria@example.com",
        "summary": "Where is my invoice?",
        "details": "March invoice",
    }
    data.update(overrides)
    response = client.post("/new/generic.question", data=data)
    return response.status_code, response.headers.get("Location", "")


def tracking_path(location: str) -> str:
    return location.split("?")[0]


def test_catalogue_groups_types_and_offers_articles(portal: Flask, people: Org) -> None:
    html = portal.test_client().get("/").get_data(as_text=True)
    assert '<h2 id="g-1">General</h2>' in html and "IT and services" in html
    assert "Reset your password yourself" in html


def test_catalogue_search_filters_types_and_articles(portal: Flask, people: Org) -> None:
    html = portal.test_client().get("/?q=password").get_data(as_text=True)
    assert "Request a service" in html
    assert "Report something broken" not in html
    assert "Reset your password yourself" in html
    assert "Nothing matches" in portal.test_client().get("/?q=zebra").get_data(as_text=True)


def test_hook_knowledge_articles_are_readable_and_link_to_forms(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    html = client.get("/help/generic.reset_password").get_data(as_text=True)
    assert "<h1>Reset your password yourself</h1>" in html
    assert "/new/generic.service_request" in html
    form = client.get("/new/generic.service_request").get_data(as_text=True)
    assert "Before you ask:" in form and "/help/generic.reset_password" in form
    assert client.get("/help/generic.nope").status_code == 404


def test_filing_creates_request_mails_the_link_and_shows_tracking(
    portal: Flask, people: Org, inbox: tuple[Inbox, int]
) -> None:
    client = portal.test_client()
    status, location = file_request(client, reference="NW-1")
    assert status == 303
    page = client.get(location).get_data(as_text=True)
    assert "We have your request: REQ-00001" in page
    assert "Your single point of contact" in page and "Dana Reyes" in page
    assert "Received" in page
    spoc_of(portal).outbox.deliver_due()
    mail = [m for m in inbox[0].messages if m["To"] == "maria@example.com"][-1]
    assert mail["To"] == "maria@example.com"
    assert mail["Subject"] == "[REQ-00001] We have your request"
    assert inbox[0].link() == tracking_path(location)
    request = spoc_of(portal).requests.get(1, Actor.system())
    assert request.subject_id == people.account.id


def test_tracking_token_is_stored_hashed(portal: Flask, people: Org) -> None:
    from spoc.core.domain.models import TrackingToken

    _, location = file_request(portal.test_client())
    token = tracking_path(location).rsplit("/", 1)[-1]
    with spoc_of(portal).db.reader() as session:
        stored = session.scalar(select(TrackingToken.token_hash))
    assert stored is not None and token not in stored and len(stored) == 64


def test_deputy_cover_is_explained_to_the_requester(
    portal: Flask, people: Org, clock: FrozenClock
) -> None:
    spoc_of(portal).directory.add_absence(people.dana.id, date(2026, 3, 1), date(2026, 3, 3))
    client = portal.test_client()
    _, location = file_request(client, reference="NW-1")
    page = client.get(location).get_data(as_text=True)
    assert "Lee Chen covers for Dana Reyes until 3 March" in page


def test_invalid_form_keeps_input_and_names_each_field(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    status, _ = file_request(client, summary="x", requester_email="nope", reference="ZZ-404")
    assert status == 422
    response = client.post(
        "/new/generic.question",
        data={
            "csrf_token": csrf_token(client),
            "requester_name": "Maria",
            "requester_email": "nope",
            "summary": "x",
        },
    )
    html = response.get_data(as_text=True)
    assert 'href="#f-summary">Summary: String should have at least 3 characters' in html
    assert 'href="#f-requester_email">Your email:' in html
    assert 'value="Maria"' in html
    assert count(portal, Request) == 0 and count(portal, Contact) == 0


def test_unknown_reference_is_refused_with_a_hint(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    response = client.post(
        "/new/generic.question",
        data={
            "csrf_token": csrf_token(client),
            "requester_name": "Maria",
            "requester_email": "maria@example.com",
            "summary": "Hello there",
            "reference": "ZZ-404",
        },
    )
    assert response.status_code == 422
    assert "We could not find that reference" in response.get_data(as_text=True)
    assert count(portal, Request) == 0


def test_intake_link_attaches_the_subject_without_listing_subjects(
    portal: Flask, people: Org
) -> None:
    token = spoc_of(portal).links.create_intake_link(people.account.id)
    client = portal.test_client()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "How can we help with Northwind Traders?" in page
    form = client.get(f"/new/generic.question?intake={token}").get_data(as_text=True)
    assert "About: <strong>Northwind Traders</strong>" in form
    assert 'name="reference"' not in form
    status, _ = file_request(client, intake=token)
    assert status == 303
    assert spoc_of(portal).requests.get(1, Actor.system()).subject_id == people.account.id
    assert client.get("/s/not-a-token").status_code == 404


def test_no_subject_means_desk_triage(portal: Flask, people: Org) -> None:
    file_request(portal.test_client())
    request = spoc_of(portal).requests.get(1, Actor.system())
    assert request.subject_id is None and request.owner_team_id == people.desk.id


def test_honeypot_creates_nothing(portal: Flask, people: Org) -> None:
    status, _ = file_request(portal.test_client(), website="http://spam.example")
    assert status == 400
    assert count(portal, Request) == 0


def test_missing_csrf_token_is_refused_and_changes_nothing(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    response = client.post(
        "/new/generic.question",
        data={"requester_name": "M", "requester_email": "m@example.com", "summary": "Hello"},
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert count(portal, Request) == 0


def test_a_burst_of_submissions_is_rate_limited(make_app: AppFactory) -> None:
    app = make_app(portal_submit_limit="3 per minute")
    client = app.test_client()
    codes = [file_request(client)[0] for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    response = client.post("/new/generic.question", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert count(app, Request) == 3


def test_requester_replies_and_cancels(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    _, location = file_request(client)
    base = tracking_path(location)
    token = csrf_token(client, base)
    assert (
        client.post(f"{base}/reply", data={"csrf_token": token, "body": "More detail"}).status_code
        == 303
    )
    page = client.get(base).get_data(as_text=True)
    assert "Your message was sent." in page and "More detail" in page
    client.post(f"{base}/cancel", data={"csrf_token": token})
    assert spoc_of(portal).requests.get(1, Actor.system()).status is Status.CANCELLED
    page = client.get(base).get_data(as_text=True)
    assert "Cancelled" in page and "Add a message" not in page


def test_requester_confirms_resolution_and_rates(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    _, location = file_request(client)
    base = tracking_path(location)
    dana = people.actor(people.dana)
    requests = spoc_of(portal).requests
    requests.post_message(1, dana, "Attached is your invoice.")
    requests.post_message(1, dana, "Internal: customer was grumpy", internal=True)
    requests.transition(1, Status.RESOLVED, dana)
    page = client.get(base).get_data(as_text=True)
    assert "Attached is your invoice." in page
    assert "grumpy" not in page
    assert "Resolved — please confirm" in page and "How did we do?" in page
    token = csrf_token(client, base)
    client.post(f"{base}/confirm", data={"csrf_token": token})
    client.post(f"{base}/rate", data={"csrf_token": token, "rating": "5", "comment": "Great"})
    assert requests.get(1, Actor.system()).status is Status.CLOSED
    with spoc_of(portal).db.reader() as session:
        assert session.scalar(select(Feedback.rating)) == 5
    assert "You rated this request 5 out of 5" in client.get(base).get_data(as_text=True)


def test_requester_reopens_a_resolved_request(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    _, location = file_request(client)
    base = tracking_path(location)
    dana = people.actor(people.dana)
    spoc_of(portal).requests.post_message(1, dana, "Done")
    spoc_of(portal).requests.transition(1, Status.RESOLVED, dana)
    client.post(
        f"{base}/reopen", data={"csrf_token": csrf_token(client, base), "body": "Still wrong"}
    )
    assert spoc_of(portal).requests.get(1, Actor.system()).status is Status.OPEN


def test_stale_version_from_an_old_page_is_refused_politely(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    _, location = file_request(client)
    base = tracking_path(location)
    token = csrf_token(client, base)
    spoc_of(portal).requests.post_message(1, people.actor(people.dana), "Hi")
    response = client.post(
        f"{base}/cancel", data={"csrf_token": token, "version": "1"}, follow_redirects=True
    )
    assert "changed while you were reading it" in response.get_data(as_text=True)
    assert spoc_of(portal).requests.get(1, Actor.system()).status is Status.OPEN


def test_another_requesters_token_opens_nothing_else(portal: Flask, people: Org) -> None:
    client = portal.test_client()
    _, mine = file_request(client)
    _, theirs = file_request(client, requester_email="eve@example.com", requester_name="Eve")
    # A token opens exactly its own request; guessing and tampering get 404.
    assert client.get(tracking_path(theirs)).status_code == 200
    assert client.get(tracking_path(mine) + "x").status_code == 404
    response = client.post(
        tracking_path(mine) + "x/cancel", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 404
    assert spoc_of(portal).requests.get(1, Actor.system()).status is Status.NEW


def test_expired_tracking_link_stops_working(
    portal: Flask, people: Org, clock: FrozenClock
) -> None:
    client = portal.test_client()
    _, location = file_request(client)
    clock.advance(timedelta(days=181))
    assert client.get(tracking_path(location)).status_code == 404


def test_magic_link_lists_only_my_requests(
    portal: Flask, people: Org, inbox: tuple[Inbox, int], clock: FrozenClock
) -> None:
    client = portal.test_client()
    file_request(client)
    file_request(client, summary="Second question")
    file_request(
        client, requester_email="eve@example.com", requester_name="Eve", summary="Eve's secret"
    )
    sent = len(inbox[0].messages)
    response = client.post(
        "/my-requests", data={"csrf_token": csrf_token(client), "email": "MARIA@example.com"}
    )
    assert "a link to them is on its way" in response.get_data(as_text=True)
    spoc_of(portal).outbox.deliver_due()
    sent = len(inbox[0].messages) - 1
    assert inbox[0].messages[-1]["Subject"] == "Your requests"
    stranger = client.post(
        "/my-requests", data={"csrf_token": csrf_token(client), "email": "who@example.com"}
    )
    assert stranger.get_data(as_text=True) == response.get_data(as_text=True)
    assert len(inbox[0].messages) == sent + 1
    fresh = portal.test_client()
    listing = fresh.get(inbox[0].link(), follow_redirects=True).get_data(as_text=True)
    assert "Second question" in listing and "Where is my invoice?" in listing
    assert "Eve&#39;s secret" not in listing and "Eve's secret" not in listing
    assert fresh.get("/my/requests/1").status_code == 200
    assert fresh.get("/my/requests/3").status_code == 404
    token = csrf_token(fresh, "/my/requests/1")
    assert fresh.post("/my/requests/3/cancel", data={"csrf_token": token}).status_code == 404
    clock.advance(timedelta(hours=3))
    assert fresh.get("/my").status_code == 303


def test_expired_magic_link_says_so(
    portal: Flask, people: Org, inbox: tuple[Inbox, int], clock: FrozenClock
) -> None:
    client = portal.test_client()
    file_request(client)
    client.post(
        "/my-requests", data={"csrf_token": csrf_token(client), "email": "maria@example.com"}
    )
    spoc_of(portal).outbox.deliver_due()
    clock.advance(timedelta(minutes=31))
    page = client.get(inbox[0].link(), follow_redirects=True).get_data(as_text=True)
    assert "That link has expired" in page


def test_magic_links_are_rate_limited(make_app: AppFactory) -> None:
    app = make_app(portal_magic_link_limit="2 per minute")
    client = app.test_client()
    codes = [
        client.post(
            "/my-requests", data={"csrf_token": csrf_token(client), "email": "a@example.com"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_nul_bytes_in_any_form_are_refused_up_front(portal: Flask, people: Org) -> None:
    status, _ = file_request(portal.test_client(), reference="\x00")
    assert status == 400
    assert count(portal, Request) == 0


def test_rate_limits_are_shared_through_redis_across_app_servers(make_app: AppFactory) -> None:
    """Two app instances (as two servers) count one client's submissions together."""
    import random
    import string

    prefix = "".join(random.choices(string.ascii_uppercase, k=8))
    settings = {
        "redis_url": "redis://127.0.0.1:6379/0",
        "portal_submit_limit": "2 per minute",
        "reference_prefix": prefix,
    }
    first, second = make_app(**settings), make_app(**settings)
    codes = [file_request(first.test_client())[0], file_request(second.test_client())[0]]
    codes.append(file_request(first.test_client())[0])
    codes.append(file_request(second.test_client())[0])
    assert codes == [303, 303, 429, 429]


def test_typing_someones_email_never_shows_their_stored_name(portal: Flask, people: Org) -> None:
    file_request(portal.test_client())  # Maria Anders, maria@example.com
    outsider = portal.test_client()
    status, location = file_request(outsider, requester_name="Eve Probe", summary="Who are you?")
    assert status == 303
    token = tracking_path(location).rsplit("/", 1)[-1]
    path = tracking_path(location)
    reply = outsider.post(
        f"{path}/reply",
        data={"csrf_token": csrf_token(outsider, path), "body": "Hello again", "version": "1"},
    )
    assert reply.status_code == 303
    page = outsider.get(path).get_data(as_text=True)
    api = outsider.get(
        "/api/v1/requests/REQ-00002/timeline", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200
    for text in (page, api.get_data(as_text=True)):
        assert "Maria Anders" not in text
    assert "Eve Probe" in api.get_data(as_text=True)  # what the requester typed here
    # Filing with an existing address does not overwrite what is stored for it either.
    with spoc_of(portal).db.reader() as session:
        stored = session.scalar(select(Contact).where(Contact.email == "maria@example.com"))
        assert stored is not None and stored.name == "Maria Anders"


def test_my_requests_names_the_address_not_the_stored_name(
    portal: Flask, people: Org, inbox: tuple[Inbox, int]
) -> None:
    client = portal.test_client()
    file_request(client)
    client.post(
        "/my-requests", data={"csrf_token": csrf_token(client), "email": "maria@example.com"}
    )
    spoc_of(portal).outbox.deliver_due()
    listing = client.get(inbox[0].link(), follow_redirects=True).get_data(as_text=True)
    assert "Your requests" in listing and "maria@example.com" in listing
    assert "Requests from Maria Anders" not in listing
