"""The events pages page by keyset: every session, event, vendor and attendee shown once,
forward and back, the manage page's two lists each on its own cursor."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from spoc.plugins.events import program, vendors
from spoc.plugins.events import views as events_views
from spoc.plugins.events.models import Attendee
from tests.conftest import login
from tests.plugins.events.conftest import Expo


def _links(page: str) -> dict[str, str]:
    """The page's navigation links by their text."""
    return {
        text: href.replace("&amp;", "&")
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
        if "cursor=" in href or "vendors=" in href or "attendees=" in href
    }


def _walk(client: FlaskClient, url: str, rows: str, forward: str, back: str) -> list[str]:
    """Walk to the last page by ``forward`` links and back to the first by ``back`` links;
    the rows seen going forward, checked against those seen coming back."""
    pages: list[list[str]] = []
    for _ in range(50):
        page = client.get(url).get_data(as_text=True)
        pages.append(re.findall(rows, page))
        if forward not in _links(page):
            break
        url = _links(page)[forward]
    back_pages = [pages[-1]]
    for _ in range(50):
        if back not in _links(page):
            break
        page = client.get(_links(page)[back]).get_data(as_text=True)
        back_pages.append(re.findall(rows, page))
    assert list(reversed(back_pages)) == pages
    return [row for p in pages for row in p]


def test_the_programme_pages_every_session_once_both_ways(
    expo_app: Flask, expo: Expo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):  # three at the keynote's time: ties on the first key
        program.add_session(
            expo.spoc,
            expo.event.id,
            title=f"Talk {i}",
            room="Hall B",
            starts=datetime(2026, 3, 20, 9, 30 if i < 3 else 11),
            ends=datetime(2026, 3, 20, 12, 0),
        )
    monkeypatch.setattr(events_views, "PAGE", 2)
    client = expo_app.test_client()
    seen = _walk(
        client, "/p/events/e/EXPO26", r"<tr><td>(\d+)</td>", "Later sessions", "Earlier sessions"
    )
    with expo.spoc.db.reader() as session:
        expected = [str(s.id) for s in program.sessions_of(session, expo.event.id, limit=100)]
    assert seen == expected and len(seen) == 7


def test_the_manage_page_pages_vendors_and_attendees_each_on_its_own(
    expo_app: Flask, expo: Expo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(4):
        vendors.add_vendor(
            expo.spoc,
            expo.settings,
            expo.event.id,
            vendors.VendorPlan(
                f"V{i}", "Caterer" if i % 2 else "Bright Stage AV", f"v{i}@x.example"
            ),
        )
    with expo.spoc.db.transaction() as session:
        for i in range(5):
            session.add(
                Attendee(
                    event_id=expo.event.id,
                    email=f"a{i}@example.com",
                    name=f"Guest {i % 2}",
                    imported_at=expo.spoc.clock.now(),
                )
            )
    monkeypatch.setattr(events_views, "PAGE", 2)
    client = expo_app.test_client()
    login(client, expo.spoc, expo.org.dana)
    url = "/p/events/e/EXPO26/manage"
    vendor_codes = _walk(
        client, url, r'<td class="mono">(V\d|AV1)</td>', "More vendors", "Previous vendors"
    )
    assert sorted(vendor_codes) == ["AV1", "V0", "V1", "V2", "V3"]
    assert len(set(vendor_codes)) == 5
    guests = _walk(
        client, url, r"<td>(a\d@example.com)</td>", "More attendees", "Previous attendees"
    )
    assert sorted(guests) == [f"a{i}@example.com" for i in range(5)]
    # Paging one list keeps the other where it was.
    first = client.get(url).get_data(as_text=True)
    later = client.get(_links(first)["More attendees"]).get_data(as_text=True)
    more_vendors = _links(later)["More vendors"]
    assert "attendees=" in more_vendors
    shown = client.get(more_vendors).get_data(as_text=True)
    assert re.findall(r"<td>(a\d@example.com)</td>", shown) == re.findall(
        r"<td>(a\d@example.com)</td>", later
    )


def test_a_cursor_the_page_did_not_make_is_a_400_naming_it(expo_app: Flask, expo: Expo) -> None:
    client = expo_app.test_client()
    page = client.get("/p/events/e/EXPO26?cursor=garbage")
    assert page.status_code == 400
    assert "&#39;cursor&#39;" in page.get_data(as_text=True)
    login(client, expo.spoc, expo.org.dana)
    assert client.get("/p/events/e/EXPO26/manage?vendors=1.x.y").status_code == 400
