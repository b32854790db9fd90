"""The admin audit log page: admins only, filters, keyset pages, CSV of the filtered rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask

from spoc.core.kernel.clock import FrozenClock
from tests.conftest import Org, login


def test_only_admins_open_the_audit_log(app: Flask, org: Org) -> None:
    for agent, status in ((org.dana, 403), (org.val, 403), (org.kim, 403), (org.ada, 200)):
        client = app.test_client()
        login(client, org.spoc, agent)
        assert client.get("/console/admin/audit").status_code == status, agent.name
        assert client.get("/console/admin/audit.csv").status_code == status, agent.name
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    assert 'href="/console/admin/audit"' in admin.get("/console/admin/agents").get_data(
        as_text=True
    )


def test_the_audit_log_filters_pages_and_exports(app: Flask, org: Org, clock: FrozenClock) -> None:
    d = org.spoc.directory
    for n in range(55):
        d.set_subject_people(
            org.actor(org.dana),
            org.account.id,
            org.dana.id,
            [org.lee.id] if n % 2 else [org.sam.id],
        )
    clock.advance(timedelta(days=3))
    d.set_subject_people(org.actor(org.ada), org.account.id, org.dana.id, [])
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    first = admin.get(f"/console/admin/audit?action=subject.people&actor={org.dana.id}")
    text = first.get_data(as_text=True)
    assert first.status_code == 200 and text.count('<td class="mono">subject.people</td>') == 50
    assert "Ada Admin</td>" not in text and "Older →" in text
    older = text.split('<p><a href="')[-1].split('"')[0].replace("&amp;", "&")
    second = admin.get(older).get_data(as_text=True)
    assert second.count('<td class="mono">subject.people</td>') == 5
    # The date range is whole days in the organisation's time zone.
    today = clock.now().astimezone(org.spoc.settings.tz).date()
    recent = admin.get(f"/console/admin/audit?from={today}&to={today}").get_data(as_text=True)
    assert "Ada Admin</td>" in recent and 'Dana Reyes</td><td class="mono">subject' not in recent
    exported = admin.get(
        f"/console/admin/audit.csv?action=subject.people&target=subject:{org.account.id}"
    )
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) >= 56 and {r["action"] for r in rows} == {"subject.people"}
    assert rows[0]["actor"] == "Ada Admin"


def test_a_bad_filter_is_named_and_shows_nothing(app: Flask, org: Org) -> None:
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    for query, field in (
        ("from=yesterday", "from"),
        ("action=nope", "action"),
        ("actor=99999999999999999999", "actor"),
        ("target=subject:x", "target"),
        ("before=99999999999999999999999", "before"),
        ("from=2026-12-02&to=2026-12-01", "to"),
    ):
        page = admin.get(f"/console/admin/audit?{query}")
        assert page.status_code == 400, query
        assert f"{field}:" in page.get_data(as_text=True), query
