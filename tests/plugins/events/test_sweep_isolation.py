"""A vendor trigger that cannot open its request never blocks the other triggers nor the
erasure of special-category data; vendor contact addresses are validated on the way in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from spoc import FrozenClock, Request, ValidationFailed
from spoc.plugins.events import vendors
from spoc.plugins.events.models import AccessNeed, Vendor
from spoc.plugins.events.models import VendorAlert as Watch
from tests.plugins.events.conftest import CLOSES, Expo, run_cli

NEED = {"needs": ["dietary"], "sessions": "all", "details": "coeliac", "consent": True}


def test_a_vendor_needs_a_valid_onsite_email(expo: Expo) -> None:
    plan = vendors.VendorPlan("BAD", "Bad Address Ltd", "not an email")
    with pytest.raises(ValidationFailed) as caught:
        vendors.add_vendor(expo.spoc, expo.settings, expo.event.id, plan)
    assert "onsite_email" in caught.value.errors
    result = run_cli(
        expo, "events", "add-vendor", "EXPO26", "BAD2", "--name", "Bad", "--email", "nope"
    )
    assert result.exit_code != 0 and "not an email address" in result.output
    email = " Crew@Ok.Example "
    good = run_cli(expo, "events", "add-vendor", "EXPO26", "OK1", "--name", "Ok", "--email", email)
    assert good.exit_code == 0, good.output
    with expo.spoc.db.reader() as session:
        codes = dict(session.execute(select(Vendor.code, Vendor.onsite_email)).all())
    assert codes == {"AV1": "crew@brightstage.example", "OK1": "crew@ok.example"}


def test_a_failing_trigger_is_parked_and_blocks_neither_others_nor_erasure(
    expo: Expo, clock: FrozenClock
) -> None:
    # A row stored before addresses were validated: its triggers cannot open a request.
    with expo.spoc.db.transaction() as session:
        session.execute(
            update(Vendor).where(Vendor.id == expo.vendor.id).values(onsite_email="not an email")
        )
    later = vendors.add_vendor(
        expo.spoc,
        expo.settings,
        expo.event.id,
        vendors.VendorPlan(
            "CAT", "Catering Co", "ops@catering.example", insurance_expires_on=date(2026, 12, 31)
        ),
    )
    need = expo.file("events.access_need", NEED)
    # Long after the event: every trigger is due and the needs' retention is over; the broken
    # vendor's triggers come first (same instants, lower ids).
    clock.set(CLOSES + timedelta(days=expo.settings.retention_days))
    expo.spoc.sweep()
    with expo.spoc.db.reader() as session:
        states = dict(session.execute(select(Watch.key, Watch.state)).all())
        erased = session.scalar(
            select(AccessNeed.erased_at).where(AccessNeed.request_id == need.id)
        )
        summaries = list(
            session.scalars(
                select(Request.summary).where(Request.type_key == vendors.VENDOR_CONTRACT)
            )
        )
    assert erased is not None
    assert states[f"certificate_missing:{expo.vendor.id}:0"] == "failed"
    assert states[f"not_checked_in:{expo.vendor.id}:0"] == "failed"
    assert states[f"not_checked_in:{later.id}:0"] in ("opened", "escalated")
    assert summaries == ["Not checked in at load-in"]  # the other vendor's trigger fired
    expo.spoc.sweep()  # parked: not tried again
    with expo.spoc.db.reader() as session:
        assert (
            session.scalar(
                select(Watch.state).where(Watch.key == f"not_checked_in:{expo.vendor.id}:0")
            )
            == "failed"
        )
