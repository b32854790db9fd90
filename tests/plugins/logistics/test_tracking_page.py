"""The public tracking page and the requester's shipment panel, through the real web app:
a tracking number alone shows status, ETA and cities; the consignee, the address and proof of
delivery only a verified contact signed in by magic link, or staff."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from spoc import Actor
from spoc.core.domain.models import Request
from spoc.core.services import spoc_of
from spoc.plugins.logistics.services import verify_contact
from tests.conftest import AppFactory, FrozenClock, Inbox, csrf_token, login
from tests.plugins.logistics.conftest import AIR, ROAD, H, Tower, make_tower

PAGE = "/p/logistics/track"
# The carrier's free-text notes name neighbours and doors: private like the address.
PRIVATE = ("Leopoldstr", "Klara Huber", "K. Huber", "Signed by", "neighbour", "Arrived at hub")


@pytest.fixture
def web(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(plugins=["generic", "logistics"], smtp_host="127.0.0.1", smtp_port=inbox[1])


@pytest.fixture
def delivered(web: Flask, clock: FrozenClock) -> Tower:
    tower = make_tower(web, clock)
    tower.feed(tower.event(city="Kassel", description="Arrived at hub"))
    tower.clock.advance(5 * H)
    tower.feed(
        tower.event(
            status="delivered",
            city="Munich",
            signed_by="K. Huber",
            description="Left with neighbour at no. 14",
        )
    )
    return tower


def look_up(client: FlaskClient, number: str) -> str:
    response = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "number": number})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sign_in_by_magic_link(web: Flask, inbox: Inbox, client: FlaskClient, email: str) -> None:
    client.post("/my-requests", data={"csrf_token": csrf_token(client), "email": email})
    spoc_of(web).outbox.deliver_due()
    assert client.get(inbox.link(), follow_redirects=True).status_code == 200


def test_a_tracking_number_alone_shows_status_and_cities_only(web: Flask, delivered: Tower) -> None:
    client = web.test_client()
    form = client.get(PAGE).get_data(as_text=True)
    assert 'name="number"' in form and 'name="csrf_token"' in form
    page = look_up(client, ROAD)
    assert "Delivered" in page and "Munich, DE" in page and "Kassel, DE" in page
    assert "Hamburg, DE" in page
    for secret in PRIVATE:
        assert secret not in page
    assert "shown only to verified contacts" in page
    assert "We know no shipment" in look_up(client, "NOPE-1")


def test_the_lookup_needs_the_form_token_and_is_rate_limited(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    # The lookup has its own, stricter limit (spoc.rate_limit); other plugin pages keep
    # SPOC_PLUGIN_PAGE_LIMIT.
    app = make_app(plugins=["generic", "logistics"], plugin_page_limit="2 per minute")
    make_tower(app, clock)
    client = app.test_client()
    token = csrf_token(client, PAGE)
    codes = [
        client.post(PAGE, data={"csrf_token": token, "number": f"GUESS-{i}"}).status_code
        for i in range(21)
    ]
    assert codes == [200] * 20 + [429]  # guessing tracking numbers is slowed down
    assert [client.get(PAGE).status_code for _ in range(2)] == [200, 429]
    fresh = make_app(plugins=["generic", "logistics"]).test_client()
    assert fresh.post(PAGE, data={"number": ROAD}).status_code == 400  # no CSRF token


def test_a_verified_contact_signed_in_by_magic_link_sees_everything(
    web: Flask, delivered: Tower, inbox: tuple[Inbox, int]
) -> None:
    tower = delivered
    # Petra is a portal contact once she has filed something.
    tower.spoc.requests.create(
        type_key="logistics.where_is_my_order",
        fields={"order_number": "PO-1"},
        requester={"name": "Petra Weiss", "email": "petra@acme.example"},
        subject_id=tower.account.id,
    )
    client = web.test_client()
    sign_in_by_magic_link(web, inbox[0], client, "petra@acme.example")
    unverified = look_up(client, ROAD)
    assert "Leopoldstr" not in unverified and "Klara Huber" not in unverified
    verify_contact(tower.spoc, Actor.system("Dana"), tower.account.id, "petra@acme.example", "id")
    page = look_up(client, ROAD)
    assert "Leopoldstr. 12, 80802 Munich" in page and "Klara Huber" in page
    assert "Signed by K. Huber" in page and "PO-1" in page
    assert "Left with neighbour at no. 14" in page and "Arrived at hub" in page
    # Verified for this account only: someone else signed in sees the public view.
    stranger = web.test_client()
    tower.spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Hello there", "details": "A question"},
        requester={"name": "Eve", "email": "eve@example.com"},
    )
    sign_in_by_magic_link(web, inbox[0], stranger, "eve@example.com")
    assert "Leopoldstr" not in look_up(stranger, ROAD)


def test_staff_signed_in_to_the_console_see_everything(web: Flask, delivered: Tower) -> None:
    client = web.test_client()
    login(client, delivered.spoc, delivered.dana)
    page = look_up(client, ROAD)
    assert "Leopoldstr. 12, 80802 Munich" in page and "Signed by K. Huber" in page


def file_with_link(tower: Tower, **fields: str) -> str:
    _, token = tower.spoc.requests.create_with_tracking_link(
        type_key="logistics.where_is_my_order",
        fields=fields,
        requester={"name": "Petra Weiss", "email": "petra@acme.example"},
        subject_id=tower.account.id,
    )
    return token


def test_an_order_number_alone_shows_status_and_eta_without_tracking_numbers_or_route(
    web: Flask, delivered: Tower
) -> None:
    tower = delivered
    tower.feed(tower.event(tracking=AIR, city="Shanghai", country="CN", eta=tower.clock.now()))
    token = file_with_link(tower, order_number="PO-1")
    page = web.test_client().get(f"/track/{token}").get_data(as_text=True)
    assert "Shipment 1 of 2" in page and "Shipment 2 of 2" in page
    assert "Delivered" in page and "In transit" in page
    assert re.search(r"expected \w{3} \d\d \w{3} \d{4}", page)  # the air shipment's ETA
    # Neither the panels nor the answer from tracking on the timeline give the tracking
    # numbers (they open each shipment's history) or the route.
    for secret in (ROAD, AIR, "Munich, DE", "Shanghai, CN", "Hamburg, DE", *PRIVATE):
        assert secret not in page


def test_the_requesters_tracking_page_with_a_tracking_number_shows_city_level(
    web: Flask, delivered: Tower
) -> None:
    token = file_with_link(delivered, order_number="PO-1", tracking_number=ROAD)
    page = web.test_client().get(f"/track/{token}").get_data(as_text=True)
    assert f"Shipment {ROAD}" in page and "Munich, DE" in page and "Kassel, DE" in page
    assert AIR not in page
    for secret in PRIVATE:
        assert secret not in page


def test_a_typed_email_of_a_verified_contact_does_not_unmask_the_tracking_page(
    web: Flask, delivered: Tower, inbox: tuple[Inbox, int]
) -> None:
    # On the public portal the requester's email is typed into the form: anyone can type a
    # verified customer's address and open the tracking page of what they filed.
    tower = delivered
    verify_contact(tower.spoc, Actor.system("Dana"), tower.account.id, "petra@acme.example", "id")
    token = file_with_link(tower, order_number="PO-1", tracking_number=ROAD)
    client = web.test_client()
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert f"Shipment {ROAD}" in page
    for secret in PRIVATE:
        assert secret not in page
    order_only = client.get(f"/track/{file_with_link(tower, order_number='PO-1')}")
    assert ROAD not in order_only.get_data(as_text=True)
    # Petra proves her email with the magic link: now she sees everything.
    sign_in_by_magic_link(web, inbox[0], client, "petra@acme.example")
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Leopoldstr. 12, 80802 Munich" in page and "Signed by K. Huber" in page
    assert "Left with neighbour at no. 14" in page
    # ... and so do staff signed in to the console.
    staff = web.test_client()
    login(staff, tower.spoc, tower.dana)
    assert "Leopoldstr. 12, 80802 Munich" in staff.get(f"/track/{token}").get_data(as_text=True)


def test_a_proven_verified_contact_files_an_address_change_for_the_spoc(
    web: Flask, delivered: Tower, inbox: tuple[Inbox, int]
) -> None:
    from spoc.plugins.logistics.services import address_history

    tower = delivered
    verify_contact(tower.spoc, Actor.system("Dana"), tower.account.id, "petra@acme.example", "id")
    file_with_link(tower, order_number="PO-1")  # Petra is a portal contact
    client = web.test_client()
    sign_in_by_magic_link(web, inbox[0], client, "petra@acme.example")
    url = "/new/logistics.address_change"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "requester_name": "Petra Weiss",
            "requester_email": "petra@acme.example",
            "tracking_number": ROAD,
            "new_address": "Elsewhere 1, Berlin",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    [audit] = address_history(tower.spoc, ROAD)
    assert (audit.outcome, audit.reason) == (
        "pending",
        "verified contact, signed in by magic link: the SPOC confirms, then applies",
    )
    notes = [
        e.message.body
        for e in tower.spoc.requests.timeline(audit.request_id or 0, Actor.system())
        if e.message is not None
    ]
    assert len(notes) == 1 and "signed in with the portal's magic link" in notes[0]
    assert tower.shipment().destination_address == "Leopoldstr. 12, 80802 Munich"


def test_hook_contact_subjects_offers_a_verified_contact_her_account_to_file_into(
    web: Flask, delivered: Tower, inbox: tuple[Inbox, int]
) -> None:
    tower = delivered
    verify_contact(tower.spoc, Actor.system("Dana"), tower.account.id, "petra@acme.example", "id")
    tower.spoc.requests.create(  # Petra is a portal contact, with no request on the account
        type_key="generic.question",
        fields={"summary": "Hello", "details": ""},
        requester={"name": "Petra Weiss", "email": "petra@acme.example"},
    )
    client = web.test_client()
    url = "/new/logistics.where_is_my_order"
    assert "Which customer account?" in client.get(url).get_data(as_text=True)  # asked, not offered
    sign_in_by_magic_link(web, inbox[0], client, "petra@acme.example")
    page = client.get(url).get_data(as_text=True)
    assert "Which customer account is it about?" in page and "Acme Retail" in page
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "requester_name": "Petra Weiss",
            "requester_email": "petra@acme.example",
            "order_number": "PO-1",
            "subject_choice": str(tower.account.id),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with tower.spoc.db.reader() as session:
        filed = session.scalars(select(Request).order_by(Request.id.desc())).first()
    assert filed is not None and filed.subject_id == tower.account.id
    assert filed.owner_agent_id == tower.dana.id  # the account's SPOC, not the desk
