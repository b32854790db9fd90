"""Saved replies and the knowledge base through the console and the portal: what an agent
writes, inserts and sends; what a requester reads and answers."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from spoc.core.domain.knowledge.articles import ArticleDraft
from spoc.core.services import Spoc
from tests.conftest import Org, csrf_token, login

EVIL = """# Paying an invoice

Open **Billing**.

<script>alert("kb")</script>
<img src=x onerror="alert(1)">
[click](javascript:alert(1))
<a href="https://example.org" onclick="alert(2)">there</a>
[safe](https://example.org/help)
"""
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _signed_in(client: FlaskClient, org: Org, who: str = "dana") -> str:
    login(client, org.spoc, getattr(org, who))
    return csrf_token(client, "/console/saved-replies")


def test_a_saved_reply_is_inserted_without_javascript_and_counted_on_send(
    client: FlaskClient, org: Org
) -> None:
    spoc = org.spoc
    token = _signed_in(client, org)
    created = client.post(
        "/console/saved-replies",
        data={
            "csrf_token": token,
            "title": "Greeting",
            "body": "Hi {{ requester.first_name }}, {{ request.reference }} "
            "is with {{ spoc.name }}.",
        },
    )
    assert created.status_code == 303
    reply = spoc.saved_replies.for_agent(org.actor(org.dana))[0]
    request_id = org.file()
    reference = spoc.requests.reference(request_id)

    page = client.get(f"/console/requests/{request_id}?saved={reply.id}").get_data(as_text=True)
    expected = f"Hi Maria, {reference} is with Dana Reyes."
    assert f">{expected}</textarea>" in page
    assert f'name="saved_reply_id" id="saved_reply_id" value="{reply.id}"' in page
    assert spoc.saved_replies.get(reply.id, org.actor(org.dana)).uses == 0  # not on insert

    inline = client.get(f"/console/requests/{request_id}/saved-replies/{reply.id}")
    assert inline.get_json() == {"id": reply.id, "text": expected}

    version = spoc.requests.get(request_id, org.actor(org.dana)).version
    sent = client.post(
        f"/console/requests/{request_id}/reply",
        data={
            "csrf_token": token,
            "version": version,
            "body": expected,
            "saved_reply_id": reply.id,
        },
    )
    assert sent.status_code == 303
    assert spoc.saved_replies.get(reply.id, org.actor(org.dana)).uses == 1


def test_a_sandbox_escape_is_refused_on_save_naming_the_body(client: FlaskClient, org: Org) -> None:
    token = _signed_in(client, org)
    for body in ("{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}"):
        refused = client.post(
            "/console/saved-replies", data={"csrf_token": token, "title": "X", "body": body}
        )
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert 'id="sr-body-error"' in html and "is not a variable" in html
        assert "<class" not in html and "function" not in html
    assert org.spoc.saved_replies.for_agent(org.actor(org.dana)) == []


def test_personal_replies_are_not_offered_or_served_to_others(
    client: FlaskClient, org: Org
) -> None:
    mine = org.spoc.saved_replies.create(org.actor(org.lee), title="Lee only", body="Secret")
    _signed_in(client, org, "dana")
    request_id = org.file()
    page = client.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "Lee only" not in page
    shown = client.get(f"/console/requests/{request_id}?saved={mine.id}").get_data(as_text=True)
    assert "Secret" not in shown and "not one of yours" in shown
    assert client.get(f"/console/saved-replies/{mine.id}").status_code == 404
    inline = client.get(f"/console/requests/{request_id}/saved-replies/{mine.id}")
    assert inline.status_code == 404


def test_an_article_written_in_the_console_appears_on_the_portal_sanitised(
    client: FlaskClient, org: Org
) -> None:
    spoc = org.spoc
    token = _signed_in(client, org)
    created = client.post(
        "/console/articles/new",
        data={
            "csrf_token": token,
            "slug": "paying",
            "language": "en",
            "title": "Paying an invoice",
            "summary": "Card or transfer",
            "body": EVIL,
            "request_types": "generic.question",
            "order": "1",
        },
    )
    assert created.status_code == 303
    article_url = created.headers["Location"]
    assert client.get("/help/kb.paying").status_code == 404  # a draft is not on the portal
    assert "Paying an invoice" not in client.get("/").get_data(as_text=True)

    client.post(article_url, data={"csrf_token": token, "action": "publish"})

    html = client.get("/help/kb.paying").get_data(as_text=True)
    assert "<strong>Billing</strong>" in html
    assert "<script" not in html.replace('<script src="/static/', "")
    assert "&lt;script&gt;" in html  # shown as text, never run
    assert not EVENT_HANDLER.search(html)
    assert not re.search(r"(href|src)=\"?javascript:", html, re.IGNORECASE)
    assert '<a href="https://example.org/help" rel="noopener noreferrer">safe</a>' in html
    assert "Paying an invoice" in client.get("/").get_data(as_text=True)
    assert "/help/kb.paying" in client.get("/?q=invoice").get_data(as_text=True)
    form = client.get("/new/generic.question").get_data(as_text=True)
    assert "/help/kb.paying" in form
    # Offered to link in a reply, with a button to insert it.
    page = client.get(f"/console/requests/{org.file()}").get_data(as_text=True)
    assert f'data-insert="{spoc.settings.base_url.rstrip("/")}/help/kb.paying"' in page


def test_editing_a_published_article_leaves_the_portal_as_it_was_until_published(
    client: FlaskClient, org: Org
) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    article = spoc.articles.create(dana, "hours", "en", ArticleDraft("Opening hours", "", "9-5"))
    spoc.articles.publish(dana, article.id)
    token = _signed_in(client, org)
    saved = client.post(
        f"/console/articles/{article.id}",
        data={"csrf_token": token, "action": "save", "title": "Hours", "body": "8-6"},
    )
    assert saved.status_code == 303
    assert "9-5" in client.get("/help/kb.hours").get_data(as_text=True)
    client.post(f"/console/articles/{article.id}", data={"csrf_token": token, "action": "publish"})
    assert "8-6" in client.get("/help/kb.hours").get_data(as_text=True)
    edit = client.get(f"/console/articles/{article.id}").get_data(as_text=True)
    assert "Version 2" in edit and "Version 1" in edit


def test_did_this_answer_counts_once_per_session(client: FlaskClient, org: Org, spoc: Spoc) -> None:
    key = next(iter(spoc.host.articles)).key  # a plugin's article counts the same way
    page = client.get(f"/help/{key}")
    assert "no-store" not in page.headers["Cache-Control"]
    assert "private" in page.headers["Cache-Control"]
    token = csrf_token(client, f"/help/{key}")
    forged = client.post(f"/help/{key}/answer", data={"helpful": "yes"})
    assert forged.status_code == 400  # no CSRF token
    for _ in range(3):
        answered = client.post(f"/help/{key}/answer", data={"csrf_token": token, "helpful": "yes"})
        assert answered.status_code == 303
    today = spoc.clock.now().date()
    assert spoc.articles.answer_counts(key) == [(today, 1, 0)]
    assert "we have your answer" in client.get(f"/help/{key}").get_data(as_text=True)
    bad = client.post(f"/help/{key}/answer", data={"csrf_token": token, "helpful": "maybe"})
    assert bad.status_code in (409, 422)
    assert (
        client.post("/help/kb.nope/answer", data={"csrf_token": token, "helpful": "no"}).status_code
        == 404
    )
    assert spoc.articles.answer_counts(key) == [(today, 1, 0)]
