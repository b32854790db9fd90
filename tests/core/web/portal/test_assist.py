"""The portal's "check for answers": the no-JS page, its JSON for the script, and "this
answered my question" on a past reply counted as a deflection (both backends)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from spoc import Actor
from spoc.core.domain.knowledge.articles import REPLIES_KEY
from spoc.core.kernel.types import Status
from spoc.core.services import Spoc
from tests.conftest import Org, csrf_token

QUESTION = "the printer keeps jamming with paper stuck inside"


def answered_printer_request(org: Org) -> int:
    spoc, dana = org.spoc, org.actor(org.dana)
    request_id = org.file(fields={"summary": "Printer jams on every page at Northwind"})
    spoc.requests.post_message(request_id, dana, "Open tray 2 and pull out the torn sheet.")
    spoc.requests.transition(request_id, Status.RESOLVED, dana)
    while spoc.assist.embed_pending():
        pass
    return request_id


def test_check_for_answers_without_javascript_shows_replies_articles_and_types(
    client: FlaskClient, org: Org
) -> None:
    request_id = answered_printer_request(org)
    page = client.get("/ask", query_string={"q": QUESTION}).get_data(as_text=True)
    assert "Open tray 2 and pull out the torn sheet." in page
    assert "This answered my question" in page
    assert "/help/generic.before_reporting" in page  # "Before you report something broken"
    assert "/new/generic.incident" in page
    # Never the other request's own words, its reference or who asked.
    assert "Northwind" not in page and org.spoc.requests.reference(request_id) not in page
    assert "Maria" not in page
    assert "Describe the problem" in client.get("/").get_data(as_text=True)


def test_the_suggestions_follow_the_typing_as_json(client: FlaskClient, org: Org) -> None:
    answered_printer_request(org)
    found = client.get("/ask/suggestions", query_string={"q": QUESTION}).get_json()
    assert [a["body"] for a in found["answers"]] == ["Open tray 2 and pull out the torn sheet."]
    assert "/help/generic.before_reporting" in [a["url"] for a in found["articles"]]
    assert found["types"][0]["url"].startswith("/new/")
    blank = client.get("/ask/suggestions", query_string={"q": "?!"}).get_json()
    assert blank["error"] and blank["answers"] == []


def test_a_reply_that_answered_counts_once_per_session_as_a_deflection(
    client: FlaskClient, org: Org, spoc: Spoc
) -> None:
    request_id = answered_printer_request(org)
    token = csrf_token(client, "/ask?q=printer")
    assert client.post("/ask/answered", data={"answer": str(request_id)}).status_code == 400
    for _ in range(3):
        sent = client.post(
            "/ask/answered", data={"csrf_token": token, "answer": str(request_id), "q": QUESTION}
        )
        assert sent.status_code == 303
    today = spoc.clock.now().date()
    assert spoc.articles.answer_counts(REPLIES_KEY) == [(today, 1, 0)]
    page = client.get("/ask", query_string={"q": QUESTION}).get_data(as_text=True)
    assert "Thank you: we have your answer." in page
    bad = client.post("/ask/answered", data={"csrf_token": token, "answer": "x"})
    assert bad.status_code in (409, 422)
    assert spoc.articles.answer_counts(REPLIES_KEY) == [(today, 1, 0)]


@pytest.fixture
def spoc_app_settings() -> dict[str, object]:
    return {
        "calendars": {"default": {"always_open": True}},
        "plugins": ["generic", "healthcare"],
    }


def test_a_private_requests_reply_is_never_offered_to_the_public(
    client: FlaskClient, org: Org
) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    booked = spoc.requests.create(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Cardiology", "reason": "Palpitations at night"},
        requester={"name": "Greta Lindqvist", "email": "greta@example.com"},
    )
    spoc.requests.post_message(booked.id, dana, "Your echocardiogram is booked for Tuesday.")
    spoc.requests.transition(booked.id, Status.RESOLVED, dana)
    while spoc.assist.embed_pending():
        pass
    text = "book a cardiology appointment for palpitations"
    assert booked.id in [r.id for r in spoc.assist.similar_requests(Actor.system(), text)]
    assert spoc.suggestions.answers(Actor.system(), text) == []  # its replies: on its page
    found = client.get("/ask/suggestions", query_string={"q": text}).get_json()
    assert found["answers"] == []
    assert "echocardiogram" not in client.get("/ask", query_string={"q": text}).get_data(
        as_text=True
    )
