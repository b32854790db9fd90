"""Proactive exceptions: each trigger opens one request per shipment and cause for the
account's SPOC, and the sweep escalates it once — never a duplicate."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor, FrozenClock, Priority, Status
from spoc.core.models import Contact, OutboxMessage
from spoc.plugins.logistics.detect import detect
from spoc.plugins.logistics.models import ShipmentException
from tests.conftest import AppFactory
from tests.plugins.logistics.conftest import AIR, ROAD, D, H, Tower, make_tower


def causes(tower: Tower) -> list[tuple[str, int]]:
    with tower.spoc.db.reader() as session:
        rows = session.execute(
            select(ShipmentException.cause, ShipmentException.shipment_id).order_by(
                ShipmentException.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def run_twice(tower: Tower) -> None:
    """Detection and the sweep, twice: the second pass must add nothing."""
    for _ in range(2):
        detect(tower.spoc)
        tower.spoc.sweep()


def test_no_scan_beyond_the_domestic_threshold_opens_one_request(tower: Tower) -> None:
    tower.feed(tower.event())
    tower.clock.advance(23 * H)
    assert detect(tower.spoc).opened == 0
    tower.clock.advance(2 * H)
    run_twice(tower)
    [request] = tower.requests()
    assert (request.type_key, request.owner_agent_id) == (
        "logistics.delivery_exception",
        tower.dana.id,
    )
    assert request.fields["kind"] == "delay"
    assert tower.escalations(request.id) == [(1, "carrier_desk", "plugin:logistics:stale")]
    # A new scan and another silence: still the one request for this shipment and cause.
    tower.feed(tower.event())
    tower.clock.advance(30 * H)
    run_twice(tower)
    assert len(tower.requests()) == 1


def test_international_shipments_have_the_longer_threshold(tower: Tower) -> None:
    tower.feed(tower.event(tracking=AIR))
    tower.clock.advance(71 * H)
    run_twice(tower)
    assert tower.requests() == []
    tower.clock.advance(2 * H)
    run_twice(tower)
    assert [c for c, _ in causes(tower)] == ["stale"]


def test_delivered_shipments_never_go_stale(tower: Tower) -> None:
    tower.feed(tower.event(status="delivered", signed_by="K. Huber"))
    tower.clock.advance(10 * D)
    run_twice(tower)
    assert tower.requests() == []


def test_eta_slip_goes_to_the_carrier_desk_then_the_authority(tower: Tower) -> None:
    promised = tower.shipment().promised_by
    assert promised is not None
    tower.feed(tower.event(status="delivery_delayed", eta=promised + 12 * H))
    run_twice(tower)
    assert tower.requests() == []  # within the 24 h tolerance
    tower.feed(tower.event(status="delivery_delayed", eta=promised + 30 * H))
    run_twice(tower)
    [request] = tower.requests()
    assert tower.escalations(request.id) == [(1, "carrier_desk", "plugin:logistics:eta_slip")]
    tower.feed(tower.event(status="delivery_delayed", eta=promised + 80 * H))
    run_twice(tower)
    assert len(tower.requests()) == 1  # the same request, now also with the authority
    assert tower.escalations(request.id) == [
        (1, "carrier_desk", "plugin:logistics:eta_slip"),
        (2, "account_management", "plugin:logistics:eta_slip_authority"),
    ]


def test_an_eta_far_past_the_promise_escalates_both_levels_in_one_pass(tower: Tower) -> None:
    promised = tower.shipment().promised_by
    assert promised is not None
    tower.feed(tower.event(eta=promised + 4 * D))
    run_twice(tower)
    [request] = tower.requests()
    assert [e[:2] for e in tower.escalations(request.id)] == [
        (1, "carrier_desk"),
        (2, "account_management"),
    ]


@pytest.mark.parametrize(
    ("fields", "cause", "kind"),
    [
        ({"status": "on_hold", "damage": True}, "damage", "damage"),
        ({"status": "unknown", "reason_code": "LOST"}, "loss", "loss"),
        ({"status": "on_hold", "reason_code": "CUSTOMS"}, "customs_hold", "customs_hold"),
    ],
)
def test_damage_loss_and_customs_open_a_request_at_once(
    tower: Tower, fields: dict[str, object], cause: str, kind: str
) -> None:
    tower.feed(tower.event(tracking=AIR, **fields))
    tower.feed(tower.event(tracking=AIR, **fields))  # said twice by the carrier
    run_twice(tower)
    [request] = tower.requests()
    assert (request.fields["kind"], request.priority) == (kind, Priority.P2)
    assert [c for c, _ in causes(tower)] == [cause]
    assert tower.escalations(request.id) == [(1, "carrier_desk", f"plugin:logistics:{cause}")]


def test_the_second_failed_delivery_attempt_alerts_once(tower: Tower) -> None:
    tower.feed(tower.event(status="delivery_failed"))
    run_twice(tower)
    assert tower.requests() == []
    tower.clock.advance(H)
    tower.feed(tower.event(status="delivery_failed"))
    tower.clock.advance(H)
    tower.feed(tower.event(status="delivery_failed"))
    run_twice(tower)
    [request] = tower.requests()
    assert "contact the consignee" in request.fields["details"]
    assert [c for c, _ in causes(tower)] == ["failed_attempts"]


def test_the_customer_is_told_in_the_spocs_name(tower: Tower) -> None:
    tower.feed(tower.event(tracking=AIR, status="on_hold", reason_code="CUSTOMS"))
    detect(tower.spoc)
    [request] = tower.requests()
    timeline = tower.spoc.requests.timeline(request.id, Actor.system())
    replies = [e for e in timeline if e.kind == "message"]
    assert replies[0].actor_name == "Dana Reyes"
    assert replies[0].message is not None
    assert "is held at customs" in replies[0].message.body
    with tower.spoc.db.reader() as session:
        mailed = session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == "petra@acme.example")
        ).all()
    assert any("You have a reply" in s for s in mailed)


def test_no_customer_notice_when_the_setting_says_so(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    app: Flask = make_app(
        plugins=["generic", "logistics"], plugin_settings={"logistics": {"notify_customer": False}}
    )
    tower = make_tower(app, clock)
    tower.feed(tower.event(status="on_hold", damage=True))
    detect(tower.spoc)
    [request] = tower.requests()
    kinds = [e.kind for e in tower.spoc.requests.timeline(request.id, Actor.system())]
    assert "message" not in kinds
    assert request.status is Status.NEW


def test_a_finished_request_is_not_escalated(tower: Tower) -> None:
    tower.feed(tower.event(status="on_hold", damage=True))
    detect(tower.spoc)
    [request] = tower.requests()
    dana = Actor.agent(tower.dana.id, tower.dana.role, tower.dana.name)
    tower.spoc.requests.transition(request.id, Status.CANCELLED, dana, reason="duplicate")
    run_twice(tower)
    assert tower.escalations(request.id) == []
    with tower.spoc.db.reader() as session:
        due = session.scalars(select(ShipmentException.escalation_due)).all()
    assert due == [False]  # settled, so the sweep's check no longer reads it


def test_proactive_requests_are_filed_for_the_order_contact(tower: Tower) -> None:
    tower.feed(tower.event(status="on_hold", damage=True))
    detect(tower.spoc)
    [request] = tower.requests()
    with tower.spoc.db.reader() as session:
        contact = session.get(Contact, request.contact_id)
        assert contact is not None
        assert contact.email == "petra@acme.example"
    assert request.subject_id == tower.account.id
    assert ROAD in request.summary or request.fields["tracking_number"] == ROAD
