"""An agent files a request for a caller on the phone or at the desk: routed as the portal's,
acknowledged to the caller with their tracking link, credited to the agent on the timeline."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from spoc.core.domain.models import Request, TimelineEvent
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Inbox, build_org, csrf_token, login


def test_an_agent_files_for_a_caller_who_gets_the_tracking_link(
    make_app: AppFactory, inbox: tuple[Inbox, int]
) -> None:
    app: Flask = make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])
    org = build_org(spoc_of(app))
    client = app.test_client()
    login(client, org.spoc, org.sam)
    assert "generic.question" in client.get("/console/file-for-caller").get_data(as_text=True)
    url = "/console/file-for-caller/generic.question"
    data = {
        "csrf_token": csrf_token(client, url),
        "caller_name": "Maria Anders",
        "caller_email": "maria@example.com",
        "channel": "phone",
        "reference": "NW-1",
        "summary": "",
    }
    refused = client.post(url, data=data)
    assert refused.status_code == 422 and 'href="#f-summary"' in refused.get_data(as_text=True)
    filed = client.post(url, data={**data, "summary": "Where is my invoice?"})
    assert filed.status_code == 303
    with org.spoc.db.reader() as session:
        request = session.scalar(select(Request))
        assert request is not None
        # Routed as the portal routes: to the subject's SPOC, not to the agent who typed it.
        assert (request.subject_id, request.owner_agent_id) == (org.account.id, org.dana.id)
        created = session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.request_id == request.id, TimelineEvent.kind == "created"
            )
        )
        assert created is not None
        assert "filed by Sam Patel for Maria Anders by phone" in created.summary
        assert (created.data["channel"], created.actor_id) == ("phone", org.sam.id)
    org.spoc.outbox.deliver_due()
    mail = inbox[0].to("maria@example.com")[-1]
    assert mail["Subject"].endswith("We have your request")
    tracking = app.test_client().get(inbox[0].link(inbox[0].messages.index(mail)))
    assert tracking.status_code == 200 and "Dana Reyes" in tracking.get_data(as_text=True)


def test_a_caller_needs_a_channel_and_a_valid_email(app: Flask) -> None:
    org = build_org(spoc_of(app))
    client = app.test_client()
    login(client, org.spoc, org.dana)
    url = "/console/file-for-caller/generic.question"
    refused = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "caller_name": "Maria",
            "caller_email": "not-an-email",
            "channel": "fax",
            "summary": "Hello",
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "#f-caller_email" in page and "#f-channel" in page
    with org.spoc.db.reader() as session:
        assert session.scalar(select(Request.id)) is None
    viewer = app.test_client()
    login(viewer, org.spoc, org.val)
    assert viewer.get(url).status_code == 403
