"""Walking every page of every API list and console list sees each row exactly once, in the
list's order, however small the pages; and on SQLite no page needs a sort the index does not
give (the ordering is served by an index)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import event, select

from spoc import Actor, Contact, FrozenClock, Role
from spoc.core.services import spoc_of
from spoc.core.web.console import admin, audit, queues, subjects
from spoc.core.web.console import mail as console_mail
from spoc.core.web.portal import views as portal
from spoc.testing import issue_api_token
from tests.conftest import Org, build_org, login

NEXT_LINK = re.compile(r'<p><a href="([^"]+)">(?:Next page|Older)[^<]*</a></p>')


@pytest.fixture
def busy(app: Flask, clock: FrozenClock) -> Org:
    """An organisation with enough of everything for several pages, and ties: requests filed
    at the same instant share their deadline (the first key of the queues' ordering)."""
    org = build_org(spoc_of(app))
    spoc = org.spoc
    system = Actor.system()
    for i in range(14):
        if i % 5 == 0:
            clock.advance(timedelta(minutes=7))
        incident = i % 4 == 0
        request_id = org.file(
            type_key="generic.incident" if incident else "generic.question",
            fields={
                "summary": f"Thing {i:02d}",
                **({"description": "d", "impact": "high", "urgency": "high"} if incident else {}),
            },
            requester={"name": f"Requester {i % 6}", "email": f"r{i % 6}@example.com"},
            subject_id=org.account.id if i % 3 else None,
        )
        if i % 3:  # dana's account: lee covers some of it
            owner = org.lee if i % 3 == 1 else org.dana
            spoc.requests.assign(request_id, system, agent_id=owner.id)
        if i % 4 == 1:
            spoc.escalations.escalate(request_id, system, team_key="specialists", reason="r")
    for i in range(6):
        spoc.directory.add_subject(
            kind="generic.account", name=f"Account {i}", spoc_agent_id=org.sam.id
        )
        spoc.directory.add_agent(email=f"agent{i}@example.org", name=f"Agent {i}", role=Role.AGENT)
    for i in range(7):  # automatic mail, stored and ignored: the inbound mail log's rows
        raw = (
            f"From: noreply@shop{i}.example.com\r\nTo: help@example.org\r\n"
            f"Subject: Newsletter {i}\r\nMessage-ID: <news-{i}@shop.example.com>\r\n\r\nHi\r\n"
        ).encode()
        spoc.mail.receive(raw, envelope_to=["help@example.org"], source="test")
    return org


def _walk_api(client: FlaskClient, headers: dict[str, str], path: str, limit: int) -> list[Any]:
    """Every page of ``path`` by ``next_cursor``: the items' keys, in order."""
    sep = "&" if "?" in path else "?"
    seen: list[Any] = []
    cursor = None
    for _ in range(200):
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.get_data(as_text=True))
        body = response.get_json()
        assert len(body["items"]) <= limit
        seen += [item.get("reference", item.get("id")) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        assert len(body["items"]) == limit  # only the last page is short
    raise AssertionError("the walk does not end")


@contextmanager
def sqlite_plans(app: Flask) -> Iterator[list[str]]:
    """The query plans of every page fetched meanwhile (SQLite only: an empty list else)."""
    plans: list[str] = []
    engine = spoc_of(app).db.engine

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "spoc_keyset_" in statement and not statement.startswith("EXPLAIN"):
            found = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append(statement + "\n" + "\n".join(str(row[-1]) for row in found))

    if engine.dialect.name == "sqlite":
        event.listen(engine, "before_cursor_execute", capture)
    try:
        yield plans
    finally:
        if engine.dialect.name == "sqlite":
            event.remove(engine, "before_cursor_execute", capture)


# (whose token or session, path). Paths marked FILTERED narrow the list by a column with an
# index of its own (status, type, action): SQLite may then read that index and sort the rows
# it finds, a choice its planner makes on its own; every other list must not sort at all.
FILTERED = "filtered"
API_LISTS = [
    ("ada", "/api/v1/requests"),
    ("dana", "/api/v1/requests?status=new", FILTERED),
    ("ada", "/api/v1/requests?queue=all"),
    ("dana", "/api/v1/requests?queue=mine"),
    ("lee", "/api/v1/requests?queue=covering"),
    ("kim", "/api/v1/requests?queue=escalations"),
    ("sam", "/api/v1/requests?queue=triage"),
    ("val", "/api/v1/requests?queue=all"),
    ("ada", "/api/v1/contacts"),
    ("ada", "/api/v1/subjects"),
    ("ada", "/api/v1/agents"),
    ("ada", "/api/v1/audit"),
    ("ada", "/api/v1/audit?action=agent.added", FILTERED),
]


def test_every_api_list_walks_each_row_once(app: Flask, busy: Org) -> None:
    client = app.test_client()
    tokens = {
        name: issue_api_token(busy.spoc, getattr(busy, name)).headers
        for name in ("ada", "dana", "lee", "kim", "sam", "val")
    }
    for who, path, *filtered in API_LISTS:
        with sqlite_plans(app) as plans:
            everything = _walk_api(client, tokens[who], path, 100)
            assert everything, (who, path)  # the fixture gives every list some rows
            for limit in (1, 2, 5):
                walked = _walk_api(client, tokens[who], path, limit)
                assert walked == everything, (path, limit)
            assert len(set(everything)) == len(everything), path
        if not filtered:
            _served_by_indexes(app, plans)


CONSOLE_LISTS = [
    ("dana", "/console/queues/mine?status=any", queues),
    ("dana", "/console/queues/mine", queues),
    ("lee", "/console/queues/covering", queues),
    ("kim", "/console/queues/escalations?status=any", queues),
    ("kim", "/console/queues/escalations", queues, FILTERED),
    ("sam", "/console/queues/triage", queues),
    ("val", "/console/queues/all?status=any", queues),
    ("ada", "/console/queues/all?type=generic.question", queues, FILTERED),
    ("dana", "/console/subjects", subjects),
    ("dana", "/console/subjects?kind=generic.account", subjects),
    ("ada", "/console/admin/agents", admin),
    ("ada", "/console/admin/outbox?status=pending", admin),
    ("ada", "/console/admin/mail?outcome=ignored", console_mail),
    ("ada", "/console/admin/audit", audit),
    ("ada", "/console/admin/audit?action=agent.added", audit, FILTERED),
]


def _walk_console(client: FlaskClient, path: str) -> list[int]:
    """Every page of a console list by its next link: the ids of the rows it rendered."""
    shown: list[list[int]] = []

    def rendered(sender: Any, template: Any, context: dict[str, Any], **_: Any) -> None:
        if "rows" in context:
            shown.append([r.id for r in context["rows"]])

    seen: list[int] = []
    url: str | None = path
    with template_rendered.connected_to(rendered):
        for _ in range(200):
            assert url is not None
            response = client.get(url)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:500])
            seen += shown.pop()
            found = NEXT_LINK.search(response.get_data(as_text=True))
            if found is None:
                return seen
            url = found.group(1).replace("&amp;", "&")
    raise AssertionError("the walk does not end")


def test_every_console_list_walks_each_row_once(
    app: Flask, busy: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients: dict[str, FlaskClient] = {}
    for who in {who for who, *_ in CONSOLE_LISTS}:
        clients[who] = app.test_client()
        login(clients[who], busy.spoc, getattr(busy, who))
    for who, path, module, *filtered in CONSOLE_LISTS:
        with sqlite_plans(app) as plans:
            monkeypatch.setattr(module, "PAGE", 1000)
            everything = _walk_console(clients[who], path)
            assert everything and len(set(everything)) == len(everything), path
            for size in (1, 3):
                monkeypatch.setattr(module, "PAGE", size)
                assert _walk_console(clients[who], path) == everything, (path, size)
        if not filtered:
            _served_by_indexes(app, plans)


def test_the_portals_my_requests_walks_each_request_once(
    app: Flask, busy: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    with busy.spoc.db.reader() as db:
        contact_id = db.scalar(select(Contact.id).where(Contact.email == "r0@example.com"))
    with client.session_transaction() as session:
        session["contact_id"] = contact_id
        session["contact_until"] = (busy.spoc.clock.now() + timedelta(hours=1)).isoformat()
    monkeypatch.setattr(portal, "MY_REQUESTS_PAGE", 1000)
    page = client.get("/my").get_data(as_text=True)
    everything = re.findall(r"/my/requests/(\d+)", page)
    assert len(everything) >= 3 and everything == sorted(everything, key=int, reverse=True)
    monkeypatch.setattr(portal, "MY_REQUESTS_PAGE", 2)
    seen: list[str] = []
    url = "/my"
    with sqlite_plans(app) as plans:
        for _ in range(50):
            page = client.get(url).get_data(as_text=True)
            seen += re.findall(r"/my/requests/(\d+)", page)
            more = re.search(r'<a href="([^"]+)">Older requests', page)
            if more is None:
                break
            url = more.group(1).replace("&amp;", "&")
    assert seen == everything
    _served_by_indexes(app, plans)


def _served_by_indexes(app: Flask, plans: list[str]) -> None:
    """No page of a list sorts its rows itself: an index gives the ordering (SQLite; the
    PostgreSQL planner decides on table statistics, which a test database does not have)."""
    assert plans or spoc_of(app).db.engine.dialect.name != "sqlite"
    for plan in plans:
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
