"""The fixtures of spoc.testing do what docs/testing-plugins.md says, and nothing one test
does is seen by the next."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask.testing import FlaskClient

import spoc.testing
import spoc.testing.imap
from spoc import Actor, FrozenClock, Spoc
from spoc.testing import START, ApiToken, Factories, Mailbox, backends
from spoc.testing import plugin as kit_plugin

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_runs_on_a_frozen_clock_and_a_business_calendar(spoc: Spoc) -> None:
    assert spoc.clock.now() == START
    # Monday 09:00 plus nine business hours is Tuesday 10:00 (Mon-Fri 09:00-17:00, London).
    assert spoc.business_add(START, timedelta(hours=9)) == datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_each_test_gets_its_own_database_on_every_backend(
    database_url: str, request: pytest.FixtureRequest, factories: Factories
) -> None:
    assert request.node.callspec.params["database_url"] in backends()
    # Made again by the next test: it would fail if rows leaked between tests.
    factories.agent(email="only-once@example.org")


def test_nothing_leaks_from_the_previous_test(
    factories: Factories, clock: FrozenClock, spoc: Spoc
) -> None:
    factories.agent(email="only-once@example.org")
    assert clock.now() == START
    clock.advance(timedelta(days=3))
    assert spoc.clock.now() == START + timedelta(days=3)


def test_factories_make_people_and_a_request_routed_to_the_subjects_spoc(
    factories: Factories, spoc: Spoc
) -> None:
    spoc_agent, deputy = factories.agent(), factories.agent()
    team = factories.team(key="billing", members=[deputy])
    account = factories.subject(spoc_agent=spoc_agent, deputies=[deputy])
    contact = factories.contact(name="Maria Anders")
    request = factories.request(subject=account, requester=contact)
    assert (request.owner_agent_id, request.contact_id) == (spoc_agent.id, contact.id)
    assert spoc.directory.in_team(deputy.id, team.key)
    assert spoc_agent.email != deputy.email


def test_the_console_client_is_signed_in(console_client: FlaskClient, factories: Factories) -> None:
    request = factories.request()
    page = console_client.get(f"/console/requests/{request.id}")
    assert page.status_code == 200
    assert "Ada Admin" in page.get_data(as_text=True)


def test_the_api_token_authenticates(
    client: FlaskClient, api_token: ApiToken, factories: Factories, spoc: Spoc
) -> None:
    reference = spoc.requests.reference(factories.request().id)
    assert client.get(f"/api/v1/requests/{reference}").status_code == 401
    answer = client.get(f"/api/v1/requests/{reference}", headers=api_token.headers)
    assert answer.status_code == 200
    assert answer.get_json()["reference"] == reference


def test_asking_for_mail_points_the_app_at_the_smtp_server(
    mail: Mailbox, factories: Factories, deliver_mail: Callable[[], object]
) -> None:
    manager = factories.agent(email="mo@example.org")
    request = factories.request(subject=factories.subject(spoc_agent=manager))
    deliver_mail()
    [message] = mail.to("mo@example.org")
    assert f"{request.id:05d}] New request for you" in message["Subject"]


def test_run_sweep_moves_the_clock_sweeps_and_delivers(
    mail: Mailbox, factories: Factories, run_sweep: Callable[..., object], spoc: Spoc
) -> None:
    manager = factories.agent(email="mo@example.org")
    request = factories.request(subject=factories.subject(spoc_agent=manager))
    report = run_sweep(after=timedelta(hours=7))
    assert getattr(report, "warned", 0) == 1
    assert spoc.clock.now() == START + timedelta(hours=7)
    subjects = [m["Subject"] for m in mail.to("mo@example.org")]
    assert any(s.endswith(": warning") for s in subjects), subjects
    assert spoc.requests.get(request.id, Actor.system()).id == request.id


def test_spoc_cli_runs_the_command_on_the_tests_app(spoc_cli: Callable[..., Result]) -> None:
    result = spoc_cli("plugins")
    assert result.exit_code == 0, result.output
    assert re.search(r"^generic\s+yes", result.output, re.MULTILINE)


def _kit_fixtures() -> list[str]:
    tree = ast.parse(Path(kit_plugin.__file__).read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(d) for d in node.decorator_list)
    ]


@pytest.mark.parametrize("name", sorted({*_kit_fixtures(), *spoc.testing.__all__}))
def test_every_fixture_and_helper_is_in_the_testing_guide(name: str) -> None:
    guide = (ROOT / "docs" / "testing-plugins.md").read_text(encoding="utf-8")
    assert f"`{name}" in guide, f"docs/testing-plugins.md does not describe {name}"


def test_a_missing_imap_server_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spoc.testing.imap, "dovecot_path", lambda: None)
    with pytest.raises(spoc.testing.imap.DovecotUnavailable, match="apt-get install dovecot"):
        spoc.testing.imap.dovecot_server().__enter__()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run these tests"):
        kit_plugin.missing_server("dovecot is not installed")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"CI installs it \(.ci/run\)"):
        kit_plugin.missing_server("dovecot is not installed")
