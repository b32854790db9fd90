"""Merge, links and CCs through the console and the tracking page."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from spoc import Actor, Status
from spoc.core.domain.models import OutboxMessage
from tests.conftest import Org, csrf_token, login


def _filed(
    org: Org, email: str = "maria@example.com", summary: str = "Parcel broken"
) -> tuple[int, str]:
    request, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": summary},
        requester={"name": email.partition("@")[0].title(), "email": email},
    )
    return request.id, token


def test_the_console_merges_and_the_old_tracking_link_redirects_to_the_survivor(
    app: Flask, org: Org
) -> None:
    survivor, _ = _filed(org)
    duplicate, old_link = _filed(org, "tom@example.com", "Same broken parcel")
    agent = app.test_client()
    login(agent, org.spoc, org.sam)
    token = csrf_token(agent, f"/console/requests/{duplicate}")
    response = agent.post(
        f"/console/requests/{duplicate}/relate/merge",
        data={"csrf_token": token, "into": f"REQ-{survivor:05d}", "reason": "same parcel"},
    )
    assert response.headers["Location"].endswith(f"/console/requests/{survivor}")
    page = agent.get(f"/console/requests/{survivor}").get_data(as_text=True)
    assert f"REQ-{duplicate:05d}" in page and "Merged here:" in page
    assert f"Timeline of REQ-{duplicate:05d}, merged into this request" in page
    assert "Same broken parcel" in page  # the duplicate's own events, on the survivor
    tom = app.test_client()
    moved = tom.get(f"/track/{old_link}")
    assert moved.status_code == 303
    survivor_page = tom.get(moved.headers["Location"]).get_data(as_text=True)
    assert f"REQ-{survivor:05d}" in survivor_page
    assert "You were copied on this request" in survivor_page  # tom follows as a CC
    assert "Cancel this request" not in survivor_page
    with org.spoc.db.reader() as session:
        told = session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == "tom@example.com")
        ).all()
    assert [s for s in told if "cancel" in s.lower() or "merged" in s.lower()] != []
    assert org.spoc.requests.get(duplicate, Actor.system()).status is Status.CANCELLED


def test_the_requester_copies_a_colleague_who_answers_with_their_own_link(
    app: Flask, org: Org
) -> None:
    request_id, link = _filed(org)
    maria = app.test_client()
    token = csrf_token(maria, f"/track/{link}")
    maria.post(
        f"/track/{link}/cc",
        data={"csrf_token": token, "email": "bob@example.com", "name": "Bob Stone"},
    )
    with org.spoc.db.reader() as session:
        invite = session.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.recipient == "bob@example.com")
        ).one()
    found = re.search(r"/track/([A-Za-z0-9_-]+)", invite)
    assert found
    bob = app.test_client()
    page = bob.get(f"/track/{found.group(1)}").get_data(as_text=True)
    assert "You were copied on this request" in page and "Cancel this request" not in page
    token = csrf_token(bob, f"/track/{found.group(1)}")
    bob.post(
        f"/track/{found.group(1)}/reply", data={"csrf_token": token, "body": "Bob: it is 4711"}
    )
    bob.post(f"/track/{found.group(1)}/cancel", data={"csrf_token": token})
    timeline = org.spoc.requests.timeline(request_id, Actor.system())
    assert any(e.message and e.message.body == "Bob: it is 4711" for e in timeline)
    assert org.spoc.requests.get(request_id, Actor.system()).status is not Status.CANCELLED
