"""The demo mailbox: every mail SPOC sent, newest first, only in the demo and only for admins."""

from __future__ import annotations

from pathlib import Path

import pytest

from spoc.core.mail.sink import mail_sink
from spoc.core.services import spoc_of
from spoc.core.web.console import demo_mail
from tests.conftest import AppFactory, build_org, free_port, login


def test_the_mailbox_lists_what_was_sent_newest_first_with_links(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    app = make_app(smtp_host="127.0.0.1", smtp_port=port, demo_mailbox=tmp_path / "mail")
    org = build_org(spoc_of(app))
    sink = mail_sink(tmp_path / "mail", port)
    sink.start()
    try:
        for n in range(3):
            org.file(fields={"summary": f"Question number {n}"})
        assert org.spoc.outbox.deliver_due().sent == 3
    finally:
        sink.stop()
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    monkeypatch.setattr(demo_mail, "PAGE", 2)
    first = admin.get("/console/demo/mail").get_data(as_text=True)
    assert first.index("REQ-00003") < first.index("REQ-00002")
    assert "REQ-00001" not in first and "Older mail" in first
    assert '<a href="http://127.0.0.1:5000/console/requests/3">' in first  # links work
    older = first.split('href="/console/demo/mail?before=')[1].split('"')[0]
    second = admin.get(f"/console/demo/mail?before={older}").get_data(as_text=True)
    assert "REQ-00001" in second and "REQ-00003" not in second
    agent = app.test_client()
    login(agent, org.spoc, org.dana)
    assert agent.get("/console/demo/mail").status_code in (302, 403)


def test_outside_the_demo_there_is_no_mailbox(make_app: AppFactory) -> None:
    app = make_app()
    org = build_org(spoc_of(app))
    admin = app.test_client()
    login(admin, org.spoc, org.ada)
    assert admin.get("/console/demo/mail").status_code == 404
    assert "Demo mailbox" not in admin.get("/console/admin/agents").get_data(as_text=True)
