"""The public tracking page and the requester's shipment panel, through the real web app:
a tracking number alone shows status, ETA and cities; the consignee, the address and proof of
delivery only a verified contact signed in by magic link, or staff."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from spoc import Actor
from spoc.core.app import spoc_of
from spoc.plugins.logistics.services import verify_contact
from tests.conftest import AppFactory, FrozenClock, Inbox, csrf_token, login
from tests.plugins.logistics.conftest import AIR, ROAD, H, Tower, make_tower

PAGE = "/p/logistics/track"
PRIVATE = ("Leopoldstr", "Klara Huber", "K. Huber", "Signed by")


@pytest.fixture
def web(make_app: AppFactory, inbox: tuple[Inbox, int]) -> Flask:
    return make_app(plugins=["generic", "logistics"], smtp_host="127.0.0.1", smtp_port=inbox[1])


@pytest.fixture
def delivered(web: Flask, clock: FrozenClock) -> Tower:
    tower = make_tower(web, clock)
    tower.feed(tower.event(city="Kassel", description="Arrived at hub"))
    tower.clock.advance(5 * H)
    tower.feed(tower.event(status="delivered", city="Munich", signed_by="K. Huber"))
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
    assert "Arrived at hub" in page and "Hamburg, DE" in page
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


def test_the_requesters_tracking_page_shows_the_shipments_progress(
    web: Flask, delivered: Tower
) -> None:
    tower = delivered
    tower.feed(tower.event(tracking=AIR, city="Shanghai", country="CN", eta=tower.clock.now()))
    _, token = tower.spoc.requests.create_with_tracking_link(
        type_key="logistics.where_is_my_order",
        fields={"order_number": "PO-1"},
        requester={"name": "Petra Weiss", "email": "petra@acme.example"},
        subject_id=tower.account.id,
    )
    client = web.test_client()
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert f"Shipment {ROAD}" in page and f"Shipment {AIR}" in page
    assert "Delivered" in page and "Munich, DE" in page and "Shanghai, CN" in page
    assert re.search(r"expected \w{3} \d\d \w{3} \d{4}", page)  # the air shipment's ETA
    for secret in PRIVATE:
        assert secret not in page
    verify_contact(tower.spoc, Actor.system("Dana"), tower.account.id, "petra@acme.example", "id")
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Leopoldstr. 12, 80802 Munich" in page and "Signed by K. Huber" in page
