"""Proactive exceptions: the core sweep alone (what `spoc worker` runs) opens one request per
shipment and cause for the account's SPOC and escalates it once — never a duplicate — and
resolves the delay-type ones when the shipment is delivered."""

from __future__ import annotations

import importlib

import pytest
from flask import Flask
from sqlalchemy import select

from spoc import Actor, ActorKind, FrozenClock, Priority, Status
from spoc.core.domain.models import Contact, OutboxMessage, SlaClock
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
    """Two core sweep passes: the second must add nothing."""
    first = tower.spoc.sweep()
    second = tower.spoc.sweep()
    assert first.errors == [] and second.errors == []
    assert (second.plugin_tasks, second.plugin_triggers) == (0, 0)


def sweep(tower: Tower) -> None:
    assert tower.spoc.sweep().errors == []


def escalation_due(tower: Tower) -> list[bool]:
    with tower.spoc.db.reader() as session:
        return list(session.scalars(select(ShipmentException.escalation_due)))


def test_no_scan_beyond_the_domestic_threshold_opens_one_request(tower: Tower) -> None:
    tower.feed(tower.event())
    tower.clock.advance(23 * H)
    assert tower.spoc.sweep().plugin_tasks == 0
    tower.clock.advance(2 * H)
    run_twice(tower)
    [request] = tower.requests()
    assert (request.type_key, request.owner_agent_id) == (
        "logistics.delivery_exception",
        tower.dana.id,
    )
    assert request.fields["kind"] == "delay"
    assert tower.escalations(request.id) == [(1, "carrier_desk", "plugin:logistics:stale")]
    assert escalation_due(tower) == [False]  # settled by the sweep in the same transaction
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


def test_the_customer_is_told_by_the_control_tower(tower: Tower) -> None:
    tower.feed(tower.event(tracking=AIR, status="on_hold", reason_code="CUSTOMS"))
    sweep(tower)
    [request] = tower.requests()
    timeline = tower.spoc.requests.timeline(request.id, Actor.system())
    replies = [e for e in timeline if e.kind == "message"]
    assert (replies[0].actor_kind, replies[0].actor_name) == (ActorKind.SYSTEM, "Control tower")
    assert replies[0].message is not None
    assert "is held at customs" in replies[0].message.body
    with tower.spoc.db.reader() as session:
        first_response = session.scalar(
            select(SlaClock.state).where(
                SlaClock.request_id == request.id, SlaClock.kind == "first_response"
            )
        )
    assert first_response == "met"  # the notice is the first response
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
    sweep(tower)
    [request] = tower.requests()
    kinds = [e.kind for e in tower.spoc.requests.timeline(request.id, Actor.system())]
    assert "message" not in kinds
    assert request.status is Status.NEW


def test_a_finished_request_is_not_escalated(tower: Tower) -> None:
    tower.feed(tower.event(status="on_hold", damage=True))
    detect(tower.spoc)  # opened, not yet swept: the SPOC cancels it first
    [request] = tower.requests()
    dana = Actor.agent(tower.dana.id, tower.dana.role, tower.dana.name)
    tower.spoc.requests.transition(request.id, Status.CANCELLED, dana, reason="duplicate")
    run_twice(tower)
    assert tower.escalations(request.id) == []
    assert escalation_due(tower) == [False]  # settled, so the sweep's check no longer reads it


def test_proactive_requests_are_filed_for_the_order_contact(tower: Tower) -> None:
    tower.feed(tower.event(status="on_hold", damage=True))
    sweep(tower)
    [request] = tower.requests()
    with tower.spoc.db.reader() as session:
        contact = session.get(Contact, request.contact_id)
        assert contact is not None
        assert contact.email == "petra@acme.example"
    assert request.subject_id == tower.account.id
    assert ROAD in request.summary or request.fields["tracking_number"] == ROAD


def test_delivery_resolves_the_delay_requests_as_the_system_once(tower: Tower) -> None:
    tower.feed(tower.event())
    tower.clock.advance(25 * H)
    tower.feed(tower.event(tracking=AIR, status="on_hold", damage=True))
    sweep(tower)
    stale, damage = tower.requests()
    assert stale.fields["kind"] == "delay" and damage.fields["kind"] == "damage"
    tower.feed(tower.event(status="delivered", city="Munich", signed_by="K. Huber"))
    tower.feed(tower.event(tracking=AIR, status="delivered", city="Frankfurt"))
    report = tower.spoc.sweep()
    assert report.plugin_tasks == 1  # one resolved; the damage stays with the SPOC
    stale = tower.spoc.requests.get(stale.id, Actor.system())
    assert stale.status is Status.RESOLVED
    assert tower.spoc.requests.get(damage.id, Actor.system()).status is Status.OPEN
    timeline = tower.spoc.requests.timeline(stale.id, Actor.system())
    [resolved] = [e for e in timeline if e.kind == "status_changed" and e.data["to"] == "resolved"]
    assert resolved.actor_kind is ActorKind.SYSTEM and "was delivered" in resolved.summary
    with tower.spoc.db.reader() as session:
        mailed = session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == "petra@acme.example")
        ).all()
    assert any("Your request is now" in s for s in mailed)
    # The customer says it is not over: reopened, and later events never resolve it again.
    tower.spoc.requests.transition(stale.id, Status.OPEN, Actor.requester(stale.contact_id))
    tower.feed(tower.event(status="delivered", city="Munich"))
    run_twice(tower)
    assert tower.spoc.requests.get(stale.id, Actor.system()).status is Status.OPEN


def test_a_delivered_shipment_raises_no_delay_request(tower: Tower) -> None:
    promised = tower.shipment().promised_by
    assert promised is not None
    tower.feed(tower.event(status="delivered", eta=promised + 4 * D, signed_by="K. Huber"))
    run_twice(tower)
    assert tower.requests() == []


def test_two_workers_never_open_the_same_request_twice(tower: Tower) -> None:
    """The exception row is written with the request: a second worker that read the same
    shipment before the first committed loses on the unique key and rolls back its request."""
    from spoc.plugins.logistics.detect import Finding, _open, settings_of
    from spoc.plugins.logistics.models import Cause, Order

    tower.feed(tower.event(status="on_hold", damage=True))
    shipment = tower.shipment()
    with tower.spoc.db.reader() as session:
        order = session.get(Order, shipment.order_id)
    assert order is not None
    finding = Finding(Cause.DAMAGE, 1, "was reported damaged by the carrier")
    settings = settings_of(tower.spoc)
    assert _open(tower.spoc, settings, shipment, order, finding) is True
    assert _open(tower.spoc, settings, shipment, order, finding) is False  # the stale reader
    assert len(tower.requests()) == 1


def notices(tower: Tower, request_id: int) -> list[str]:
    return [
        e.message.body
        for e in tower.spoc.requests.timeline(request_id, Actor.system())
        if e.kind == "message" and e.message is not None
    ]


def test_a_crash_before_the_customer_notice_is_made_good_by_the_next_pass(
    tower: Tower, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request commits with its notice due; the worker dies before posting it. The next
    pass tells the customer — once, with the mail, however many passes follow."""
    detect_module = importlib.import_module("spoc.plugins.logistics.detect")

    def crash(*args: object, **kwargs: object) -> bool:
        raise SystemExit("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(detect_module, "tell_customer", crash)
        tower.feed(tower.event(tracking=AIR, status="on_hold", reason_code="CUSTOMS"))
        with pytest.raises(SystemExit):
            detect(tower.spoc)
    [request] = tower.requests()
    assert notices(tower, request.id) == []
    with tower.spoc.db.reader() as session:
        [row] = session.scalars(select(ShipmentException))
        assert (row.notice_due, row.customer_told_at) == (True, None)
    first = tower.spoc.sweep()
    assert first.errors == [] and first.plugin_tasks == 1
    run_twice(tower)
    [notice] = notices(tower, request.id)
    assert "is held at customs" in notice and f"LH Cargo {AIR} (order PO-1)" in notice
    with tower.spoc.db.reader() as session:
        [row] = session.scalars(select(ShipmentException))
        assert (row.notice_due, row.customer_told_at) == (False, tower.clock.now())
        mailed = session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == "petra@acme.example")
        ).all()
    assert sum("You have a reply" in s for s in mailed) == 1


def test_the_customer_notice_is_posted_at_most_once(tower: Tower) -> None:
    """Two workers telling the same customer: the notice is marked in the message's own write
    by a conditional update, so the second one's message rolls back."""
    from spoc.plugins.logistics.detect import tell_customer
    from spoc.plugins.logistics.models import Order

    tower.feed(tower.event(status="on_hold", damage=True))
    sweep(tower)
    [request] = tower.requests()
    assert len(notices(tower, request.id)) == 1
    shipment = tower.shipment()
    with tower.spoc.db.reader() as session:
        order = session.get(Order, shipment.order_id)
    assert order is not None
    assert tell_customer(tower.spoc, request.id, order, shipment, "was damaged") is False
    assert len(notices(tower, request.id)) == 1


def test_an_untold_notice_of_a_finished_request_is_dropped(
    tower: Tower, monkeypatch: pytest.MonkeyPatch
) -> None:
    detect_module = importlib.import_module("spoc.plugins.logistics.detect")

    with monkeypatch.context() as patched:
        patched.setattr(detect_module, "tell_customer", lambda *a, **k: False)
        tower.feed(tower.event(status="on_hold", damage=True))
        sweep(tower)
    [request] = tower.requests()
    dana = Actor.agent(tower.dana.id, tower.dana.role, tower.dana.name)
    tower.spoc.requests.transition(request.id, Status.CANCELLED, dana, reason="duplicate")
    sweep(tower)
    assert notices(tower, request.id) == []
    with tower.spoc.db.reader() as session:
        assert list(session.scalars(select(ShipmentException.notice_due))) == [False]


def test_no_notice_is_due_when_the_setting_is_off(make_app: AppFactory, clock: FrozenClock) -> None:
    app: Flask = make_app(
        plugins=["generic", "logistics"], plugin_settings={"logistics": {"notify_customer": False}}
    )
    tower = make_tower(app, clock)
    tower.feed(tower.event(status="on_hold", damage=True))
    run_twice(tower)
    with tower.spoc.db.reader() as session:
        assert list(session.scalars(select(ShipmentException.notice_due))) == [False]
