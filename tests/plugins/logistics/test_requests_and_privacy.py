"""Request types, masking for tracking-number-only viewers, address changes and claims."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor, ActorKind, PermissionDenied, Priority, Status
from spoc.core.domain.demo import seed
from spoc.core.domain.models import SlaClock
from spoc.core.platform import hookspecs
from spoc.core.services import spoc_of
from spoc.plugins.logistics.models import AddressChange, Claim
from spoc.plugins.logistics.services import address_history, change_address, verify_contact
from spoc.plugins.logistics.tracking import account_tracking, public_tracking
from tests.conftest import AppFactory
from tests.plugins.logistics.conftest import AIR, ROAD, D, Tower


def test_a_tracking_number_alone_shows_cities_and_no_consignee(tower: Tower) -> None:
    tower.feed(
        tower.event(
            status="delivered",
            city="Munich",
            signed_by="K. Huber",
            description="Left with neighbour at no. 14 / K. Huber",
        )
    )
    [public] = public_tracking(tower.spoc, ROAD)
    assert (public.status, public.destination, public.events[0].city) == (
        "delivered",
        "Munich, DE",
        "Munich",
    )
    assert public.verified is False
    assert (public.consignee_name, public.destination_address, public.proof_of_delivery) == (
        None,
        None,
        None,
    )
    dumped = public.model_dump_json()
    assert "Leopoldstr" not in dumped and "Klara" not in dumped and "Huber" not in dumped
    assert "neighbour" not in dumped and public.events[0].description is None
    # Claiming an email is not enough: the contact must be verified for the account.
    [unverified] = account_tracking(tower.spoc, ROAD, "petra@acme.example")
    assert unverified.destination_address is None
    verify_contact(
        tower.spoc, Actor.system("Dana"), tower.account.id, "Petra@acme.example", "call-back"
    )
    [full] = account_tracking(tower.spoc, ROAD, "petra@acme.example")
    assert full.destination_address == "Leopoldstr. 12, 80802 Munich"
    assert full.consignee_name == "Klara Huber"
    assert full.proof_of_delivery is not None and "K. Huber" in full.proof_of_delivery
    assert full.events[0].description == "Left with neighbour at no. 14 / K. Huber"


def file(tower: Tower, type_key: str, email: str = "petra@acme.example", **fields: object) -> int:
    return tower.spoc.requests.create(
        type_key=type_key,
        fields=fields,
        requester={"name": "Petra Weiss", "email": email},
        subject_id=tower.account.id,
    ).id


def answer_to(tower: Tower, rid: int) -> str:
    return next(
        e.message.body
        for e in tower.spoc.requests.timeline(rid, Actor.system())
        if e.kind == "message" and e.message is not None
    )


def test_where_is_my_order_is_answered_from_tracking_and_resolved(tower: Tower) -> None:
    tower.feed(tower.event(city="Kassel", description="Arrived at hub"))
    rid = file(tower, "logistics.where_is_my_order", order_number="PO-1")
    request = tower.spoc.requests.get(rid, Actor.system())
    assert request.status is Status.RESOLVED
    answer = answer_to(tower, rid)
    assert "Shipment 1 of 2: In transit" in answer and "Shipment 2 of 2: Pending" in answer
    # An order number alone (an invoice, a guess) earns status and ETA: no tracking numbers
    # (they open each shipment's history), no route, nothing private.
    for secret in (ROAD, AIR, "Kassel", "Hamburg", "Munich", "Frankfurt", "Leopoldstr"):
        assert secret not in answer
    assert "Arrived at hub" not in answer
    timeline = tower.spoc.requests.timeline(rid, Actor.system())
    [reply] = [e for e in timeline if e.kind == "message"]
    assert (reply.actor_kind, reply.actor_name) == (ActorKind.SYSTEM, "tracking")
    with tower.spoc.db.reader() as session:
        clock = session.scalar(
            select(SlaClock.state).where(
                SlaClock.request_id == rid, SlaClock.kind == "first_response"
            )
        )
    assert clock == "met"
    # "It does not help": the requester reopens it and the SPOC takes over.
    tower.spoc.requests.transition(rid, Status.OPEN, Actor.requester(request.contact_id))
    assert tower.spoc.requests.get(rid, Actor.system()).status is Status.OPEN


def test_where_is_my_order_with_the_tracking_number_answers_at_city_level(
    tower: Tower,
) -> None:
    tower.feed(tower.event(city="Kassel", description="Left with neighbour at no. 14"))
    rid = file(tower, "logistics.where_is_my_order", order_number="PO-1", tracking_number=ROAD)
    answer = answer_to(tower, rid)
    assert f"DHL {ROAD}: In transit" in answer and "Kassel" in answer
    assert AIR not in answer  # only the shipment they hold the number of
    assert "neighbour" not in answer and "Leopoldstr" not in answer  # it goes by mail


def test_where_is_my_order_for_an_unknown_order_waits_for_the_spoc(tower: Tower) -> None:
    rid = file(tower, "logistics.where_is_my_order", order_number="PO-404")
    assert tower.spoc.requests.get(rid, Actor.system()).status is Status.NEW


def test_the_order_number_leads_to_the_account(tower: Tower) -> None:
    request_type = tower.spoc.requests.request_type("logistics.where_is_my_order")
    assert tower.spoc.requests.resolve_subject_reference("PO-1", request_type) == tower.account.id
    assert tower.spoc.requests.resolve_subject_reference(AIR, request_type) == tower.account.id


def test_address_change_is_refused_until_identity_is_verified_and_audited(tower: Tower) -> None:
    rid = file(
        tower, "logistics.address_change", tracking_number=ROAD, new_address="Elsewhere 1, Berlin"
    )
    [reply] = [e for e in tower.spoc.requests.timeline(rid, Actor.system()) if e.message]
    assert reply.actor_kind is ActorKind.SYSTEM and reply.message is not None
    assert "verify who you are" in reply.message.body
    dana = Actor.agent(tower.dana.id, tower.dana.role, tower.dana.name)
    with pytest.raises(PermissionDenied, match="not a verified contact"):
        change_address(
            tower.spoc,
            dana,
            tracking_number=ROAD,
            new_address="Elsewhere 1, Berlin",
            requested_by="petra@acme.example",
            request_id=rid,
        )
    assert tower.shipment().destination_address == "Leopoldstr. 12, 80802 Munich"
    verify_contact(tower.spoc, dana, tower.account.id, "petra@acme.example", "call-back")
    change_address(
        tower.spoc,
        dana,
        tracking_number=ROAD,
        new_address="Elsewhere 1, Berlin",
        requested_by="petra@acme.example",
        request_id=rid,
    )
    assert tower.shipment().destination_address == "Elsewhere 1, Berlin"
    history = [(a.outcome, a.actor) for a in address_history(tower.spoc, ROAD)]
    assert history == [
        ("refused", "Control tower"),
        ("refused", "Dana Reyes"),
        ("applied", "Dana Reyes"),
    ]
    viewer = Actor.agent(tower.viewer.id, tower.viewer.role, tower.viewer.name)
    with pytest.raises(PermissionDenied):
        change_address(
            tower.spoc,
            viewer,
            tracking_number=ROAD,
            new_address="x",
            requested_by="petra@acme.example",
        )
    with tower.spoc.db.reader() as session:
        assert len(session.scalars(select(AddressChange)).all()) == 3
    # Every attempt on the request is on its timeline, written with the audit row.
    kinds = [
        (e.kind, e.actor_name)
        for e in tower.spoc.requests.timeline(rid, Actor.system())
        if e.kind.startswith("logistics.")
    ]
    assert kinds == [
        ("logistics.address_refused", "Dana Reyes"),
        ("logistics.address_applied", "Dana Reyes"),
    ]


def test_a_typed_email_of_a_verified_contact_does_not_prove_identity(tower: Tower) -> None:
    # The email on a request is typed into a form: a fraudster types the customer's. Only a
    # magic-link sign-in proves it (tests/plugins/logistics/test_tracking_page.py).
    dana = Actor.agent(tower.dana.id, tower.dana.role, tower.dana.name)
    verify_contact(tower.spoc, dana, tower.account.id, "petra@acme.example", "call-back")
    rid = file(
        tower, "logistics.address_change", tracking_number=ROAD, new_address="Elsewhere 1, Berlin"
    )
    [audit] = address_history(tower.spoc, ROAD)
    assert (audit.outcome, audit.request_id) == ("refused", rid)
    assert audit.reason == (
        "email matches a verified contact; identity not proven — call back on the number on "
        "file before applying"
    )
    messages = [
        (e.visibility.value, e.message.body)
        for e in tower.spoc.requests.timeline(rid, Actor.system())
        if e.message is not None
    ]
    [(_, note)] = [m for m in messages if m[0] == "internal"]
    assert "identity is not proven" in note and "Call back on the number on file" in note
    assert "apply-address-change" in note and "is a verified contact" not in note
    [(_, reply)] = [m for m in messages if m[0] == "public"]
    assert "verify who you are" in reply
    assert tower.shipment().destination_address == "Leopoldstr. 12, 80802 Munich"
    # After the call-back the SPOC applies it.
    change_address(
        tower.spoc,
        dana,
        tracking_number=ROAD,
        new_address="Elsewhere 1, Berlin",
        requested_by="petra@acme.example",
        request_id=rid,
    )
    assert tower.shipment().destination_address == "Elsewhere 1, Berlin"


def test_specialist_teams_come_from_the_settings(make_app: AppFactory) -> None:
    app: Flask = make_app(
        plugins=["generic", "logistics"],
        plugin_settings={"logistics": {"carrier_desk_team": "carriers", "claims_team": "cl"}},
        teams=["carriers", "cl"],  # the deployment's own teams (SPOC_TEAMS)
    )
    requests = spoc_of(app).requests
    assert requests.request_type("logistics.delivery_exception").specialist_team == "carriers"
    assert requests.request_type("logistics.claim").specialist_team == "cl"


@pytest.mark.parametrize(
    ("tracking", "kind", "days"),
    [
        (ROAD, "hidden_damage", 7),
        (ROAD, "delay", 21),
        (AIR, "hidden_damage", 14),
        (AIR, "delay", 21),
    ],
)
def test_claims_count_down_the_conventions_deadline(
    tower: Tower, tracking: str, kind: str, days: int
) -> None:
    delivered = tower.clock.now()
    tower.feed(tower.event(tracking=tracking, status="delivered"))
    rid = file(
        tower,
        "logistics.claim",
        tracking_number=tracking,
        kind=kind,
        goods_value="1200.00",
        description="Crushed cartons",
    )
    with tower.spoc.db.reader() as session:
        claim = session.scalar(select(Claim).where(Claim.request_id == rid))
    assert claim is not None and claim.deadline_at == delivered + days * D
    # Two days before the deadline the claims team is brought in, once.
    tower.clock.advance((days - 2) * D)
    tower.spoc.sweep()
    tower.spoc.sweep()
    assert tower.escalations(rid) == [(1, "claims", "plugin:logistics:claim_deadline")]


def test_loss_has_no_notice_deadline(tower: Tower) -> None:
    rid = file(
        tower,
        "logistics.claim",
        tracking_number=AIR,
        kind="loss",
        goods_value="10",
        description="Never arrived",
    )
    with tower.spoc.db.reader() as session:
        claim = session.scalar(select(Claim).where(Claim.request_id == rid))
    assert claim is not None and claim.deadline_at is None


def test_damage_exceptions_filed_by_customers_are_p2(tower: Tower) -> None:
    rid = file(
        tower,
        "logistics.delivery_exception",
        summary="Pallet crushed",
        kind="damage",
        tracking_number=ROAD,
    )
    assert tower.spoc.requests.get(rid, Actor.system()).priority is Priority.P2


def test_stock_short_of_the_quantity_goes_to_the_buyers(tower: Tower) -> None:
    rid = file(
        tower, "logistics.inventory", sku="4006381333931", quantity=500, available_to_promise=120
    )
    request = tower.spoc.requests.get(rid, Actor.system())
    assert request.owner_agent_id is None and request.owner_team_id is not None


def test_console_panel_shows_the_full_shipment_to_staff(tower: Tower) -> None:
    tower.feed(tower.event())
    rid = file(
        tower, "logistics.delivery_exception", summary="Late", kind="delay", tracking_number=ROAD
    )
    request = tower.spoc.requests.get(rid, Actor.system())
    panels = tower.spoc.hooks.each(hookspecs.spoc_console_panels, request=request, spoc=tower.spoc)
    [(plugin, [panel])] = panels
    assert plugin == "logistics" and "Leopoldstr" in panel.body


def test_demo_data_has_a_stale_shipment_and_an_eta_slip(make_app: AppFactory) -> None:
    app: Flask = make_app(plugins=["generic", "logistics"])
    spoc = spoc_of(app)
    seed(spoc)
    report = spoc.sweep()  # what the demo's own worker runs
    assert (report.plugin_tasks, report.errors) == (2, [])
    from spoc.plugins.logistics.models import ShipmentException

    with spoc.db.reader() as session:
        found = sorted(session.scalars(select(ShipmentException.cause)))
    assert found == ["eta_slip", "stale"]
