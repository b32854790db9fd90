"""A large upload becomes a job: the console answers at once with a status page whose
``<progress>`` bar follows the worker's run (refreshing itself without JavaScript, polled
with it), then lists the outcome and the errors by line."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from spoc.core.domain.models import Contact, Subject
from tests.conftest import Org, csrf_token, login


def _accounts(lines: int, *, blank_name_at: int | None = None) -> bytes:
    rows = ["name,external_ref"]
    for i in range(lines):
        rows.append(("" if i + 2 == blank_name_at else f"Account {i}") + f",AC-{i}")
    return ("\n".join(rows) + "\n").encode()


def _upload(client: FlaskClient, url: str, body: bytes, mode: str, **fields: str) -> TestResponse:
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "mode": mode,
            "file": (io.BytesIO(body), "big.csv"),
            **fields,
        },
        content_type="multipart/form-data",
    )


def test_a_large_upload_shows_live_progress_then_the_outcome(app: Flask, org: Org) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    sent = _upload(
        client, "/console/subjects/import", _accounts(1500), "import", kind="generic.account"
    )
    assert sent.status_code == 303
    status_url = sent.headers["Location"]
    assert re.search(r"/console/imports/\d+$", status_url)
    page = client.get(status_url).get_data(as_text=True)
    assert "Waiting for the worker" in page
    assert '<progress id="import-progress" max="1500" value="0">' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "import-progress.js" in page
    state = client.get(status_url + ".json").get_json()
    assert state == {
        "status": "queued",
        "finished": False,
        "max": 1500,
        "value": 0,
        "phase": "checked",
        "text": "0 of 1500 lines checked",
    }
    assert org.spoc.imports.run_next()  # the worker's pass
    state = client.get(status_url + ".json").get_json()
    assert (state["finished"], state["value"], state["phase"]) == (True, 1500, "written")
    page = client.get(status_url).get_data(as_text=True)
    assert "Imported" in page and "created 1500, updated 0" in page
    assert "http-equiv" not in page  # finished: no more refreshing
    with org.spoc.db.reader() as session:
        assert session.scalar(select(func.count(Subject.id))) == 1501


def test_a_large_dry_run_lists_errors_by_line_and_writes_nothing(app: Flask, org: Org) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    body = _accounts(800, blank_name_at=640)
    sent = _upload(client, "/console/subjects/import", body, "dry-run", kind="generic.account")
    org.spoc.imports.run_next()
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert '<td class="mono">640</td><td>name</td>' in page and "(dry run)" in page
    with org.spoc.db.reader() as session:
        assert session.scalar(select(func.count(Subject.id))) == 1


def test_large_contact_files_go_to_the_worker_too_and_agents_see_no_job(
    app: Flask, org: Org
) -> None:
    client = app.test_client()
    login(client, org.spoc, org.ada)
    body = ("name,email\n" + "".join(f"P {i},p{i}@example.com\n" for i in range(700))).encode()
    sent = _upload(client, "/console/admin/contacts/import", body, "import")
    assert sent.status_code == 303
    org.spoc.imports.run_next()
    assert "created 700" in client.get(sent.headers["Location"]).get_data(as_text=True)
    with org.spoc.db.reader() as session:
        assert session.scalar(select(func.count(Contact.id))) == 700
    agent = app.test_client()
    login(agent, org.spoc, org.dana)
    assert agent.get(sent.headers["Location"]).status_code == 403
