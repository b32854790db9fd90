"""GET /api/v1/search: ranked hits the caller may read, structured snippets, keyset pages."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask

from tests.conftest import Org


def _headers(org: Org, email: str) -> dict[str, str]:
    _, secret = org.spoc.tokens.create(org.actor(org.ada), email, "search script")
    return {"Authorization": f"Bearer {secret}"}


def test_staff_search_and_page_through_hits(app: Flask, org: Org) -> None:
    ids = [org.file(fields={"summary": f"Forklift <b>{i}</b> broken"}) for i in range(3)]
    client = app.test_client()
    headers = _headers(org, org.dana.email)
    first = client.get("/api/v1/search?q=forklift&limit=2", headers=headers)
    assert first.status_code == 200
    body = first.json
    assert body is not None and len(body["items"]) == 2 and "total" not in body
    hit = body["items"][0]
    assert hit["kind"] == "request" and hit["reference"] == org.spoc.requests.reference(hit["id"])
    assert {"text": "Forklift", "match": True} in hit["title"]
    # Text comes back as text: the caller escapes it, nothing is turned into markup.
    assert any("<b>" in part["text"] for part in hit["title"])
    rest = client.get(
        f"/api/v1/search?q=forklift&limit=2&cursor={body['next_cursor']}", headers=headers
    ).json
    assert rest is not None and rest["next_cursor"] is None
    assert sorted(i["id"] for i in [*body["items"], *rest["items"]]) == sorted(ids)
    only = client.get("/api/v1/search?q=forklift&kind=article", headers=headers).json
    assert only is not None and only["items"] == []


def test_bad_searches_name_their_field(app: Flask, org: Org) -> None:
    client = app.test_client()
    headers = _headers(org, org.dana.email)
    for query, field in (
        ("", "query.q"),
        ("q=", "query.q"),
        ("q=" + "x" * 201, "query.q"),
        ("q=x&kind=tickets", "query.kind"),
        ("q=x&limit=0", "query.limit"),
        ("q=x&cursor=garbage", "query.cursor"),
    ):
        bad = client.get(f"/api/v1/search?{query}", headers=headers)
        assert bad.status_code == 422, query
        assert bad.mimetype == "application/problem+json"
        assert field in [e["field"] for e in bad.json["errors"]], query  # type: ignore[index]
    # NUL is refused before any view runs (no database stores it), still naming the field.
    nul = client.get("/api/v1/search?q=" + quote("a\x00b"), headers=headers)
    assert nul.status_code == 400 and nul.json["errors"][0]["field"] == "query.q"  # type: ignore[index]
    assert client.get("/api/v1/search?q=x").status_code == 401
    assert "/search" in client.get("/api/v1/openapi.json").get_data(as_text=True)
