"""Checking a vendor in clears a trigger: desk staff only, and who did it is kept."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from spoc import FrozenClock
from spoc.plugins.events.models import Vendor
from spoc.plugins.events.models import VendorAlert as Watch
from tests.conftest import csrf_token, login
from tests.plugins.events.conftest import LOAD_IN, Expo


def check_in(app: Flask, expo: Expo, agent: object) -> int:
    client = app.test_client()
    login(client, expo.spoc, agent)  # type: ignore[arg-type]
    token = csrf_token(client, "/p/events/")
    return client.post(
        f"/p/events/vendors/{expo.vendor.id}/check-in", data={"csrf_token": token}
    ).status_code


def test_only_desk_staff_check_a_vendor_in_and_who_did_is_kept(
    expo_app: Flask, expo: Expo, clock: FrozenClock
) -> None:
    clock.set(LOAD_IN + timedelta(minutes=5))
    assert check_in(expo_app, expo, expo.org.val) == 403  # a viewer
    assert check_in(expo_app, expo, expo.org.kim) == 403  # a specialist
    with expo.spoc.db.reader() as session:
        vendor = session.get(Vendor, expo.vendor.id)
        assert vendor is not None and vendor.checked_in_at is None
        assert (
            session.scalar(
                select(Watch.state).where(Watch.key == f"not_checked_in:{expo.vendor.id}:0")
            )
            == "waiting"
        )
    assert check_in(expo_app, expo, expo.org.dana) == 303
    with expo.spoc.db.reader() as session:
        vendor = session.get(Vendor, expo.vendor.id)
        assert vendor is not None
        assert (vendor.checked_in_at, vendor.checked_in_by, vendor.checked_in_by_id) == (
            LOAD_IN + timedelta(minutes=5),
            "Dana Reyes",
            expo.org.dana.id,
        )
        assert (
            session.scalar(
                select(Watch.state).where(Watch.key == f"not_checked_in:{expo.vendor.id}:0")
            )
            == "cleared"
        )
    client = expo_app.test_client()
    login(client, expo.spoc, expo.org.ada)
    html = client.get("/p/events/e/EXPO26/manage").get_data(as_text=True)
    assert "by Dana Reyes" in html
