"""The console's search box and results page: escaped, marked snippets, paging, errors."""

from __future__ import annotations

from flask import Flask

from spoc.core.domain.knowledge.articles import ArticleDraft
from tests.conftest import Org, login


def test_the_header_search_finds_a_request_and_escapes_what_people_typed(
    app: Flask, org: Org
) -> None:
    request_id = org.file(fields={"summary": "Gizmo <script>alert(1)</script> broken"})
    org.spoc.requests.post_message(request_id, org.actor(org.dana), "The gizmo & the <b>widget</b>")
    client = app.test_client()
    login(client, org.spoc, org.dana)
    queue = client.get("/console/", follow_redirects=True).get_data(as_text=True)
    assert 'action="/console/search"' in queue and 'role="search"' in queue
    page = client.get("/console/search?q=gizmo")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/console/requests/{request_id}"' in html
    assert "<mark>Gizmo</mark> &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>gizmo</mark> &amp; the &lt;b&gt;widget&lt;/b&gt;" in html
    assert "<script>alert" not in html


def test_the_results_page_pages_and_says_what_is_wrong(app: Flask, org: Org) -> None:
    for i in range(23):
        org.file(fields={"summary": f"Toaster fault {i}"})
    specialist = app.test_client()
    login(specialist, org.spoc, org.kim)  # none of these are theirs
    assert "Nothing you may read" in specialist.get("/console/search?q=toaster").get_data(True)
    client = app.test_client()
    login(client, org.spoc, org.dana)
    first = client.get("/console/search?q=toaster").get_data(as_text=True)
    assert first.count("<li>") == 20 and "More results" in first
    after = first.split("/console/search?q=toaster&amp;kind=&amp;after=")[1].split('"')[0]
    rest = client.get(f"/console/search?q=toaster&after={after}").get_data(as_text=True)
    assert rest.count("<li>") == 3 and "More results" not in rest
    bad = client.get("/console/search?q=" + "x" * 201)
    assert bad.status_code == 422 and "at most 200 characters" in bad.get_data(as_text=True)


def test_an_article_written_in_the_console_is_found_and_links_to_its_portal_page(
    app: Flask, org: Org
) -> None:
    dana = org.actor(org.dana)
    article = org.spoc.articles.create(
        dana, "invoices", "de", ArticleDraft("Rechnung finden", "", "Unter Abrechnung.")
    )
    org.spoc.articles.publish(dana, article.id)
    client = app.test_client()
    login(client, org.spoc, org.dana)
    html = client.get("/console/search?q=rechnung").get_data(as_text=True)
    assert 'href="/help/kb.invoices?lang=de"' in html
