"""The "resolved" mail's one-click rating: the link shows the rating ticked and records
nothing until the form is sent; it records once; its comment reaches the request page."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from spoc import Status
from spoc.core.domain.models import Feedback, OutboxMessage
from tests.conftest import Org, csrf_token, login


def resolved_mail(org: Org) -> str:
    with org.spoc.db.reader() as session:
        bodies = session.scalars(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.subject.contains("Resolved"))
            .order_by(OutboxMessage.id)
        ).all()
    return bodies[-1]


def resolve(org: Org, rid: int) -> None:
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Sent again today")
    org.spoc.requests.transition(rid, Status.RESOLVED, org.actor(org.dana))


def rating(org: Org, rid: int) -> Feedback | None:
    with org.spoc.db.reader() as session:
        return session.scalar(select(Feedback).where(Feedback.request_id == rid))


def test_the_resolved_mail_rates_in_one_click_and_records_once(app: Flask, org: Org) -> None:
    rid = org.file()
    resolve(org, rid)
    found = re.search(r"(http\S+/rate/\S+)\?rating=4", resolved_mail(org))
    assert found is not None
    link = found.group(1).split("localhost", 1)[-1].split("example.org", 1)[-1]
    path = link[link.index("/rate/") :]
    client = app.test_client()
    page = client.get(f"{path}?rating=4")
    assert page.status_code == 200
    assert 'value="4" required checked' in page.get_data(as_text=True)
    assert rating(org, rid) is None  # opening the link (or a scanner doing so) records nothing
    token = csrf_token(client, f"{path}?rating=4")
    sent = client.post(path, data={"csrf_token": token, "rating": "4", "comment": "Quick"})
    assert "you rated us 4 out of 5" in sent.get_data(as_text=True)
    again = client.post(path, data={"csrf_token": token, "rating": "1"})
    assert "rated already" in again.get_data(as_text=True)
    stored = rating(org, rid)
    assert stored is not None and (stored.rating, stored.comment) == (4, "Quick")
    # The comment is on the console's request page.
    staff = app.test_client()
    login(staff, org.spoc, org.dana)
    html = staff.get(f"/console/requests/{rid}").get_data(as_text=True)
    assert "The requester's rating" in html and "Quick" in html and "4 of 5" in html


def test_a_forged_or_early_link_records_nothing(app: Flask, org: Org) -> None:
    rid = org.file()
    client = app.test_client()
    assert client.get(f"/rate/{rid}.1.AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/rate/not-a-token").status_code == 404
    token = org.spoc.notifier._rate_url(org.spoc.requests.get(rid, org.requester(rid)))
    assert token is not None
    path = token[token.index("/rate/") :]
    assert "not resolved" in client.get(path).get_data(as_text=True)
    csrf = csrf_token(client, "/my-requests")  # the session's token, from any portal form
    refused = client.post(path, data={"csrf_token": csrf, "rating": "5"})
    assert "not resolved" in refused.get_data(as_text=True)
    assert rating(org, rid) is None


def test_a_rating_without_a_choice_names_the_field(app: Flask, org: Org) -> None:
    rid = org.file()
    resolve(org, rid)
    url = org.spoc.notifier._rate_url(org.spoc.requests.get(rid, org.requester(rid)))
    assert url is not None
    path = url[url.index("/rate/") :]
    client = app.test_client()
    csrf = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": csrf})
    assert refused.status_code == 422 and "choose 1 to 5" in refused.get_data(as_text=True)
    assert rating(org, rid) is None
