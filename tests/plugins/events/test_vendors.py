"""Vendor triggers fire exactly once each; the vendor portal is a secret link."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from spoc import FrozenClock, Request
from spoc.core.domain.models import Escalation, Team
from spoc.plugins.events import vendors
from spoc.plugins.events.models import VendorAlert as Watch
from tests.conftest import AppFactory, csrf_token
from tests.plugins.events.conftest import LOAD_IN, OPENS, PLUGINS, Expo, make_expo

MINUTE = timedelta(minutes=1)


def alerts(expo: Expo) -> list[tuple[str, str]]:
    """(summary, team escalated to) for every request the triggers opened."""
    with expo.spoc.db.reader() as session:
        rows = session.execute(
            select(Request.summary, Team.key)
            .join(
                Escalation,
                (Escalation.request_id == Request.id)
                & Escalation.trigger.startswith("plugin:events:"),
                isouter=True,
            )
            .join(Team, Team.id == Escalation.to_team_id, isouter=True)
            .where(Request.type_key == vendors.VENDOR_CONTRACT)
            .order_by(Request.id)
        ).all()
    return [(summary, team) for summary, team in rows]


def sweep_twice(expo: Expo) -> None:
    expo.spoc.sweep()
    expo.spoc.sweep()  # a second pass (another worker) changes nothing


def test_an_overdue_deliverable_fires_exactly_once(expo: Expo, clock: FrozenClock) -> None:
    vendors.record_certificate(expo.spoc, expo.vendor.id, date(2026, 6, 30))
    due = clock.now() + timedelta(days=2)
    vendors.add_deliverable(expo.spoc, expo.settings, expo.vendor.id, "Rigging plan", due)
    accepted = vendors.add_deliverable(expo.spoc, expo.settings, expo.vendor.id, "Power plan", due)
    vendors.accept_deliverable(expo.spoc, accepted.id, expo.org.actor(expo.org.lee))
    clock.set(due - MINUTE)
    sweep_twice(expo)
    assert alerts(expo) == []
    clock.set(due)
    report = expo.spoc.sweep()
    assert (report.plugin_tasks, report.plugin_triggers) == (1, 1)
    sweep_twice(expo)
    clock.advance(timedelta(days=3))
    sweep_twice(expo)
    assert alerts(expo) == [("Overdue: Rigging plan", "vendor_management")]


def test_a_missing_certificate_fires_once_fourteen_days_before(
    expo: Expo, clock: FrozenClock
) -> None:
    insured = vendors.add_vendor(
        expo.spoc,
        expo.settings,
        expo.event.id,
        vendors.VendorPlan(
            "CAT", "Catering Co", "ops@catering.example", insurance_expires_on=date(2026, 12, 31)
        ),
    )
    del insured
    clock.set(OPENS - timedelta(days=14) - MINUTE)
    sweep_twice(expo)
    assert alerts(expo) == []
    clock.set(OPENS - timedelta(days=14))
    sweep_twice(expo)
    clock.advance(timedelta(days=1))
    sweep_twice(expo)
    assert alerts(expo) == [("Insurance certificate missing", "vendor_management")]


def test_a_certificate_recorded_in_time_clears_the_trigger(expo: Expo, clock: FrozenClock) -> None:
    vendors.record_certificate(expo.spoc, expo.vendor.id, date(2026, 6, 30))
    clock.set(OPENS - timedelta(days=13))
    sweep_twice(expo)
    assert alerts(expo) == []


def test_a_vendor_not_checked_in_fifteen_minutes_after_load_in_fires_once(
    expo: Expo, clock: FrozenClock
) -> None:
    vendors.record_certificate(expo.spoc, expo.vendor.id, date(2026, 6, 30))
    early = vendors.add_vendor(
        expo.spoc,
        expo.settings,
        expo.event.id,
        vendors.VendorPlan(
            "SEC", "Secure Guards", "desk@guards.example", insurance_expires_on=date(2026, 6, 30)
        ),
    )
    clock.set(LOAD_IN + timedelta(minutes=5))
    vendors.check_in(expo.spoc, early.id, expo.org.actor(expo.org.dana))
    clock.set(LOAD_IN + timedelta(minutes=14))
    sweep_twice(expo)
    assert alerts(expo) == []
    clock.set(LOAD_IN + timedelta(minutes=15))
    sweep_twice(expo)
    clock.advance(timedelta(hours=1))
    sweep_twice(expo)
    assert alerts(expo) == [("Not checked in at load-in", "event_operations")]
    with expo.spoc.db.reader() as session:
        states = dict(session.execute(select(Watch.key, Watch.state)).all())
    assert states[f"not_checked_in:{expo.vendor.id}:0"] == "escalated"
    assert states[f"not_checked_in:{early.id}:0"] == "cleared"


def test_two_workers_open_one_request_per_watch(expo: Expo, clock: FrozenClock) -> None:
    vendors.add_deliverable(expo.spoc, expo.settings, expo.vendor.id, "Plan", clock.now())
    assert vendors.open_due_alerts(expo.spoc, clock.now(), 10) == 1
    assert vendors.open_due_alerts(expo.spoc, clock.now(), 10) == 0
    with expo.spoc.db.reader() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Request)
            .where(Request.type_key == vendors.VENDOR_CONTRACT)
        )
    assert count == 1


def test_a_due_alert_the_task_did_not_reach_stays_armed_for_its_next_pass(
    expo: Expo, clock: FrozenClock
) -> None:
    due = clock.now() - MINUTE
    for what in ("Stage plan", "Power plan"):
        vendors.add_deliverable(expo.spoc, expo.settings, expo.vendor.id, what, due)
    report = expo.spoc.sweep(limit=1)  # the task opens one; the sweep meets the other's watch
    assert (report.plugin_tasks, report.watches, report.plugin_triggers) == (1, 1, 0)
    with expo.spoc.db.reader() as session:
        [left] = expo.spoc.watches.due(session, vendors.ALERT, clock.now() + MINUTE, 10)
        assert left.due_at == clock.now() + vendors.RETRY
    clock.advance(vendors.RETRY)
    report = expo.spoc.sweep()
    assert (report.plugin_tasks, report.plugin_triggers) == (1, 2)
    sweep_twice(expo)
    assert alerts(expo) == [
        ("Overdue: Stage plan", "vendor_management"),
        ("Overdue: Power plan", "vendor_management"),
    ]


# --- the vendor portal ---------------------------------------------------------------------


def test_the_vendor_sees_deliverables_and_counts_per_session_never_names(
    expo_app: Flask, expo: Expo, clock: FrozenClock
) -> None:
    vendors.add_deliverable(
        expo.spoc, expo.settings, expo.vendor.id, "Stage plan", clock.now() - timedelta(hours=1)
    )
    people = (
        ("Nora Quinn", "nora@example.com"),
        ("Omar Haddad", "omar@example.com"),
        ("Pia Berg", "pia@example.com"),
    )
    for name, email in people:
        expo.file(
            "events.access_need",
            {
                "needs": ["hearing_loop"],
                "sessions": str(expo.keynote.id),
                "details": "Cochlear implant",
                "consent": True,
            },
            requester={"name": name, "email": email},
        )
    # One person alone with a rare need in a session: the count would point at them.
    expo.file(
        "events.access_need",
        {
            "needs": ["quiet_room"],
            "sessions": str(expo.workshop.id),
            "details": "Autistic; needs a break room",
            "consent": True,
        },
        requester={"name": "Quinn Rare", "email": "quinn@example.com"},
    )
    token = vendors.issue_portal_link(expo.spoc, expo.settings, expo.vendor.id)
    client = expo_app.test_client()
    page = client.get(f"/p/events/v/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stage plan" in html and "Overdue" in html
    assert re.search(r"Opening keynote</td><td>Hearing loop</td><td>3</td>", html)
    assert re.search(r"</td><td>Quiet room</td><td>fewer than 3</td>", html)
    assert "<td>1</td>" not in html
    for secret in ("Nora", "Omar", "Quinn", "nora@example.com", "Cochlear", "Autistic"):
        assert secret not in html


def test_a_wrong_or_expired_vendor_link_is_not_found(
    expo_app: Flask, expo: Expo, clock: FrozenClock
) -> None:
    token = vendors.issue_portal_link(expo.spoc, expo.settings, expo.vendor.id)
    client = expo_app.test_client()
    assert client.get("/p/events/v/not-the-token").status_code == 404
    assert client.post("/p/events/v/not-the-token/requests", data={}).status_code in (400, 404)
    clock.set(datetime(2026, 3, 28, tzinfo=OPENS.tzinfo))  # a week after the event
    assert client.get(f"/p/events/v/{token}").status_code == 404
    fresh = vendors.issue_portal_link(expo.spoc, expo.settings, expo.vendor.id)
    assert client.get(f"/p/events/v/{fresh}").status_code == 404  # still past its life


def test_the_vendor_files_a_request_with_a_csrf_token_only(expo_app: Flask, expo: Expo) -> None:
    token = vendors.issue_portal_link(expo.spoc, expo.settings, expo.vendor.id)
    client = expo_app.test_client()
    form = {
        "kind": "power",
        "what": "Two 32 A three-phase outlets",
        "cost_impact": "800",
        "vendor_code": "SOMEONE-ELSE",
    }
    assert client.post(f"/p/events/v/{token}/requests", data=form).status_code == 400
    form["csrf_token"] = csrf_token(client, f"/p/events/v/{token}")
    response = client.post(f"/p/events/v/{token}/requests", data=form)
    assert response.status_code == 303 and "/track/" in response.headers["Location"]
    with expo.spoc.db.reader() as session:
        filed = session.scalar(select(Request).where(Request.type_key == "events.vendor_request"))
        assert filed is not None
        assert filed.fields["vendor_code"] == "AV1"  # from the link, not the form
        # 800 is beyond the vendor's budget tolerance of 500: escalated to the organisers.
        team = session.scalar(
            select(Team.key)
            .join(Escalation, Escalation.to_team_id == Team.id)
            .where(Escalation.request_id == filed.id)
        )
    assert team == "event_organisers"


def test_the_smallest_count_shown_to_vendors_is_configurable(make_app: AppFactory) -> None:
    app = make_app(plugins=PLUGINS, plugin_settings={"events": {"vendor_count_minimum": 1}})
    expo = make_expo(app)
    expo.file(
        "events.access_need",
        {"needs": ["dietary"], "sessions": str(expo.keynote.id), "details": "x", "consent": True},
    )
    token = vendors.issue_portal_link(expo.spoc, expo.settings, expo.vendor.id)
    html = app.test_client().get(f"/p/events/v/{token}").get_data(as_text=True)
    assert re.search(r"Opening keynote</td><td>Dietary[^<]*</td><td>1</td>", html)
