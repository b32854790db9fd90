"""The guided assistant: from a description to a filed request of the right type, one field
at a time with the form's validation, answers cited or their absence said (both backends)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from spoc.core.domain.models import Request
from spoc.core.kernel.types import Status
from spoc.core.services import Spoc
from tests.conftest import Org, csrf_token


def test_the_assistant_guides_a_description_to_a_filed_request(
    client: FlaskClient, spoc: Spoc
) -> None:
    token = csrf_token(client, "/assistant")
    described = "I forgot my password and my account is locked"
    step = client.post("/assistant", data={"csrf_token": token, "description": described})
    page = step.get_data(as_text=True)
    assert step.status_code == 200
    assert "/help/generic.reset_password" in page  # an existing article, cited with its link
    assert 'value="generic.service_request"' in page
    chosen = {"csrf_token": token, "description": described, "type": "generic.question"}
    page = client.post("/assistant", data=chosen).get_data(as_text=True)
    assert "Question 1 of 2" in page and described in page  # the summary, from the description
    # Each answer is checked with the form's own rules: too short a summary is refused.
    refused = client.post(
        "/assistant", data={**chosen, "step": "0", "answered": "yes", "summary": "ab"}
    )
    assert refused.status_code == 422
    assert "at least 3 characters" in refused.get_data(as_text=True)
    page = client.post(
        "/assistant",
        data={**chosen, "step": "0", "answered": "yes", "summary": "Locked out of my account"},
    ).get_data(as_text=True)
    assert "Question 2 of 2" in page
    page = client.post(
        "/assistant",
        data={
            **chosen,
            "step": "1",
            "answered": "yes",
            "a.summary": "Locked out of my account",
            "details": "Since this morning",
        },
    ).get_data(as_text=True)
    assert 'action="/new/generic.question"' in page and "who should we reply to?" in page
    # The last step is the request form's own submit: filed as from the form.
    filed = client.post(
        "/new/generic.question",
        data={
            "csrf_token": token,
            "summary": "Locked out of my account",
            "details": "Since this morning",
            "requester_name": "Maria Anders",
            "requester_email": "maria@example.com",
        },
    )
    assert filed.status_code == 303 and "/track/" in filed.headers["Location"]
    with spoc.db.reader() as session:
        request = session.scalars(select(Request)).one()
    assert (request.type_key, request.summary) == ("generic.question", "Locked out of my account")
    assert request.fields["details"] == "Since this morning"


def test_the_assistant_says_so_when_it_has_no_answer(client: FlaskClient, org: Org) -> None:
    token = csrf_token(client, "/assistant")
    page = client.post(
        "/assistant", data={"csrf_token": token, "description": "zebra quartz obsidian"}
    ).get_data(as_text=True)
    assert "I have no article or earlier answer for this" in page


def test_the_assistant_cites_a_reply_to_a_similar_resolved_request(
    client: FlaskClient, org: Org
) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    done = org.file(fields={"summary": "Printer on floor two jams on every page"})
    spoc.requests.post_message(done, dana, "Open tray 2 and pull out the torn sheet.")
    spoc.requests.transition(done, Status.RESOLVED, dana)
    while spoc.assist.embed_pending():
        pass
    token = csrf_token(client, "/assistant")
    page = client.post(
        "/assistant",
        data={"csrf_token": token, "description": "the printer keeps jamming with paper"},
    ).get_data(as_text=True)
    assert "Open tray 2 and pull out the torn sheet." in page
    assert "our reply to a similar request" in page
