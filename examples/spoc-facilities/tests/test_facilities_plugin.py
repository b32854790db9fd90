"""The example third-party plugin, installed as its own distribution, loads and works
exactly as any third-party plugin would: found through its entry point, enabled by settings,
with its own table and Alembic history, hooks and CLI commands.

Like any plugin's own tests, these import only ``spoc`` and ``spoc.testing``; the fixtures
(``make_app``, ``spoc_cli``, ...) come from the ``spoc.testing`` pytest plugin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import distribution

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from spoc import Actor, PluginError, Priority, Spoc, spoc_of
from spoc.testing import AppFactory, applied_migrations, sla_due, table_names
from spoc_facilities import FacilitiesSettings
from spoc_facilities.models import WorkOrder

CliInvoke = Callable[..., Result]


@pytest.fixture
def facilities_app(app: Flask) -> Flask:
    # conftest.py enables the plugin; no plugin_entry_points: real discovery, as in production.
    return app


@pytest.fixture
def site(facilities_app: Flask) -> tuple[Spoc, int, int]:
    spoc = spoc_of(facilities_app)
    manager = spoc.directory.add_agent(email="mo@example.org", name="Mo Hassan", role="agent")
    spoc.directory.add_team(key="safety", name="Safety team")
    building = spoc.directory.add_subject(
        kind="facilities.building", name="North wing", spoc_agent_id=manager.id
    )
    return spoc, building.id, manager.id


def repair(spoc: Spoc, building_id: int, **fields: object) -> int:
    payload = {"summary": "Door handle loose", "location": "2nd floor, room 204"}
    payload.update(fields)
    return spoc.requests.create(
        type_key="facilities.repair",
        fields=payload,
        requester={"name": "Ravi", "email": "ravi@example.com"},
        subject_id=building_id,
    ).id


def test_it_is_a_separate_distribution_found_through_its_entry_point(
    facilities_app: Flask,
) -> None:
    dist = distribution("spoc-facilities")
    assert [ep.name for ep in dist.entry_points if ep.group == "spoc.plugins"] == ["facilities"]
    info = {p.name: p for p in spoc_of(facilities_app).host.plugins}["facilities"]
    assert (info.enabled, info.bundled, info.distribution, info.version) == (
        True,
        False,
        "spoc-facilities",
        "1.0.0",
    )


def test_hook_request_types_and_subject_kinds_from_a_third_party(facilities_app: Flask) -> None:
    host = spoc_of(facilities_app).host
    assert host.request_types.owner("facilities.repair") == "facilities"
    assert host.subject_kinds.owner("facilities.building") == "facilities"
    assert host.request_types.names()[-1] == "facilities.repair"


def test_hook_subject_kinds_restrict_which_subjects_a_type_applies_to(
    site: tuple[Spoc, int, int],
) -> None:
    spoc, _, manager_id = site
    account = spoc.directory.add_subject(
        kind="generic.account", name="Acme", spoc_agent_id=manager_id
    )
    with pytest.raises(Exception, match=r"about facilities\.building, not generic\.account"):
        repair(spoc, account.id)


def test_a_repair_goes_to_the_building_manager(site: tuple[Spoc, int, int]) -> None:
    spoc, building_id, manager_id = site
    request = spoc.requests.get(repair(spoc, building_id), Actor.system())
    assert (request.owner_agent_id, request.priority) == (manager_id, Priority.P3)


def test_a_hazard_is_p1_and_goes_to_the_safety_team(site: tuple[Spoc, int, int]) -> None:
    spoc, building_id, _ = site
    rid = repair(spoc, building_id, summary="Water on the switchboard", hazard=True)
    request = spoc.requests.get(rid, Actor.system())
    assert request.priority is Priority.P1
    assert request.owner_agent_id is None and request.owner_team_id is not None
    assigned = spoc.requests.timeline(rid, Actor.system())[1]
    assert (
        assigned.summary == "Hazards go straight to the safety team (routing by plugin facilities)"
    )


def test_critical_sites_are_at_least_the_configured_priority(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "facilities"],
        plugin_settings={"facilities": {"critical_priority": "P1"}},
    )
    spoc = spoc_of(app)
    assert spoc.plugin_settings("facilities", FacilitiesSettings).critical_priority is Priority.P1
    manager = spoc.directory.add_agent(email="mo@example.org", name="Mo", role="agent")
    building = spoc.directory.add_subject(
        kind="facilities.building",
        name="Data centre",
        spoc_agent_id=manager.id,
        attributes={"critical": True},
    )
    rid = repair(spoc, building.id)
    assert spoc.requests.get(rid, Actor.system()).priority is Priority.P1


def test_invalid_plugin_settings_stop_startup(make_app: AppFactory) -> None:
    with pytest.raises(PluginError, match="SPOC_FACILITIES__SAFETY_TEAM"):
        make_app(
            plugins=["generic", "facilities"],
            plugin_settings={"facilities": {"safety_team": "Bad Team"}},
        )


def test_hook_migrations_give_the_plugin_its_own_table_and_history(facilities_app: Flask) -> None:
    spoc = spoc_of(facilities_app)
    histories = applied_migrations(spoc)
    assert set(histories) == {"core", "facilities"}
    assert histories["facilities"] == {"f001_facilities"}
    assert {"facilities_work_orders", "alembic_version_facilities"} <= table_names(spoc)


def test_after_commit_hook_opens_a_work_order_in_the_plugin_table(
    site: tuple[Spoc, int, int],
) -> None:
    spoc, building_id, _ = site
    rid = repair(spoc, building_id)
    with spoc.db.reader() as session:
        orders = list(session.scalars(select(WorkOrder)))
    assert [(o.request_id, o.reference) for o in orders] == [(rid, spoc.requests.reference(rid))]


def test_hook_cli_commands_appear_under_the_plugin_group(
    site: tuple[Spoc, int, int], spoc_cli: CliInvoke
) -> None:
    spoc, building_id, _ = site
    rid = repair(spoc, building_id)
    listing = spoc_cli("--help")
    assert "facilities" in listing.output
    result = spoc_cli("facilities", "work-orders", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert spoc.requests.reference(rid) in result.output
    without = spoc_cli("facilities", "work-orders", env={"SPOC_PLUGINS": "generic"})
    assert without.exit_code == 2
    assert "No such command 'facilities'" in without.output


def test_a_plugin_gives_its_request_type_an_sla_policy(site: tuple[Spoc, int, int]) -> None:
    spoc, building_id, _ = site
    rid = repair(spoc, building_id, summary="Sparks from a socket", hazard=True)
    due = sla_due(spoc, rid)
    created = spoc.requests.get(rid, Actor.system()).created_at
    assert due["first_response"] - created == timedelta(minutes=15)
    assert due["resolution"] - created == timedelta(hours=1)
