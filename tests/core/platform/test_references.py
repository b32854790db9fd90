"""Start-up refuses what the enabled plugins name but nobody declared, naming plugin and field.

Each test registers a small plugin of its own (a module built in the test) next to the
installed ones and starts an app with it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from importlib.metadata import EntryPoint
from typing import Any

import click
import pytest
from flask import Flask
from pydantic import BaseModel, ConfigDict

from spoc import (
    KnowledgeArticle,
    PluginError,
    RequestType,
    SlaPolicy,
    StartupError,
    SubjectKind,
    TeamKey,
    create_app,
    hookimpl,
)
from spoc.core.platform.plugins import (
    BUNDLED_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    installed_entry_points,
)
from spoc.core.services import spoc_of


class Fields(BaseModel):
    summary: str


class FloorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cleaning_team: TeamKey = "cleaners"
    on_call_teams: list[TeamKey] = []
    backup_team: TeamKey | None = None


class LooseSettings(BaseModel):
    """A model that does not forbid unknown keys itself."""

    colour: str = "blue"


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Callable[..., EntryPoint]:
    """``plugin("floor", spoc_request_types=...)``: a plugin module made of the given hooks."""

    def make(name: str, **hooks: Callable[..., Any]) -> EntryPoint:
        module = types.ModuleType(f"tests_plugin_{name}")
        for hook, implementation in hooks.items():
            setattr(module, hook, hookimpl(implementation))
        monkeypatch.setitem(sys.modules, module.__name__, module)
        return EntryPoint(name, module.__name__, ENTRY_POINT_GROUP)

    return make


def start(*plugins: EntryPoint, enable: tuple[str, ...] = (), **settings: Any) -> Flask:
    return create_app(
        env="test",
        database_url="sqlite://",
        plugins=["generic", *enable, *(p.name for p in plugins)],
        plugin_entry_points=[*installed_entry_points(), *plugins],
        **settings,
    )


def refused(*plugins: EntryPoint, **settings: Any) -> str:
    with pytest.raises(PluginError) as caught:
        start(*plugins, **settings)
    assert isinstance(caught.value, StartupError)  # what create_app's callers catch
    return str(caught.value)


def floor_settings() -> type[BaseModel]:
    return FloorSettings


def request_type(key: str = "floor.spill", **fields: Any) -> RequestType:
    return RequestType(key, "Report a spill", "Something was spilt", Fields, **fields)


# --- teams ---------------------------------------------------------------------------------


def test_a_team_setting_naming_no_known_team_is_refused_naming_plugin_and_setting(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_settings_model=floor_settings)
    message = refused(floor, plugin_settings={"floor": {"cleaning_team": "cleanerz"}})
    assert message.startswith(
        "plugin 'floor': setting 'cleaning_team' (SPOC_FLOOR__CLEANING_TEAM) names unknown "
        "team 'cleanerz' (known teams: "
    )
    assert "cleaners" in message  # the plugin's own default is a team it brings
    assert "SPOC_TEAMS" in message  # and where a deployment's own team goes


def test_team_keys_inside_lists_and_optional_settings_are_checked_too(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_settings_model=floor_settings)
    listed = refused(floor, plugin_settings={"floor": {"on_call_teams": ["desk", "nightshift"]}})
    assert listed.startswith(
        "plugin 'floor': setting 'on_call_teams' (SPOC_FLOOR__ON_CALL_TEAMS) names unknown "
        "team 'nightshift'"
    )
    optional = refused(floor, plugin_settings={"floor": {"backup_team": "backups"}})
    assert optional.startswith("plugin 'floor': setting 'backup_team' (SPOC_FLOOR__BACKUP_TEAM)")


def test_a_team_setting_may_name_the_cores_teams_other_plugins_teams_or_spoc_teams(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_settings_model=floor_settings)
    app = start(
        floor,
        enable=("healthcare",),
        teams=["nightshift"],
        plugin_settings={
            "floor": {
                "cleaning_team": "clinical",  # a team healthcare brings
                "on_call_teams": ["desk", "management", "nightshift"],  # core, core, SPOC_TEAMS
            }
        },
    )
    section = spoc_of(app).plugin_settings("floor", FloorSettings)
    assert section.cleaning_team == "clinical"
    assert section.on_call_teams == ["desk", "management", "nightshift"]


def test_a_request_types_specialist_team_must_be_known(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_request_types=lambda: [request_type(specialist_team="ops")])
    message = refused(floor)
    assert message.startswith(
        "plugin 'floor': request type 'floor.spill' field 'specialist_team' names unknown "
        "team 'ops' (known teams: desk, management, specialists; make it a TeamKey setting"
    )
    assert start(floor, teams=["ops"])  # a team of the deployment's own


def test_a_request_type_may_take_its_specialist_team_from_a_team_setting(
    plugin: Callable[..., EntryPoint],
) -> None:
    def types_from_settings(settings_sections: dict[str, BaseModel]) -> list[RequestType]:
        section = settings_sections["floor"]
        assert isinstance(section, FloorSettings)
        return [request_type(specialist_team=section.cleaning_team)]

    floor = plugin(
        "floor", spoc_settings_model=floor_settings, spoc_request_types=types_from_settings
    )
    types_ = spoc_of(start(floor)).host.request_types
    assert types_.get("floor.spill") is not None
    assert types_.get("floor.spill").specialist_team == "cleaners"  # type: ignore[union-attr]


# --- subject kinds, calendars, request types -------------------------------------------------


def test_a_request_type_naming_an_unknown_subject_kind_is_refused(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin(
        "floor",
        spoc_subject_kinds=lambda: [SubjectKind("floor.room", "Room")],
        spoc_request_types=lambda: [request_type(subject_kinds=("floor.room", "floor.rooom"))],
    )
    assert refused(floor).startswith(
        "plugin 'floor': request type 'floor.spill' field 'subject_kinds' names unknown "
        "subject kind 'floor.rooom' (known subject kinds: floor.room, generic.account)"
    )


def test_a_request_type_may_name_another_enabled_plugins_subject_kind(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin(
        "floor", spoc_request_types=lambda: [request_type(subject_kinds=("generic.account",))]
    )
    assert "floor.spill" in spoc_of(start(floor)).host.request_types


def test_an_sla_policy_on_an_unknown_calendar_is_refused_naming_the_plugin(
    plugin: Callable[..., EntryPoint],
) -> None:
    sla = SlaPolicy(first_response={}, resolution={}, calendar="weekends")
    floor = plugin("floor", spoc_request_types=lambda: [request_type(sla=sla)])
    assert refused(floor).startswith(
        "plugin 'floor': request type 'floor.spill' field 'sla.calendar' names unknown calendar "
        "'weekends' (known calendars: always_open, default; see SPOC_CALENDARS)"
    )
    open_ = {"always_open": True}
    assert start(floor, calendars={"default": open_, "weekends": open_})


def test_an_article_naming_an_unknown_request_type_is_refused(
    plugin: Callable[..., EntryPoint],
) -> None:
    article = KnowledgeArticle(
        "floor.wet_floor", "Wet floor", "Mind the sign", "Text.", request_types=("floor.spil",)
    )
    floor = plugin(
        "floor",
        spoc_request_types=lambda: [request_type()],
        spoc_knowledge_articles=lambda: [article],
    )
    message = refused(floor)
    assert message.startswith(
        "plugin 'floor': knowledge article 'floor.wet_floor' field 'request_types' names "
        "unknown request type 'floor.spil' (known request types: "
    )
    assert "floor.spill" in message


# --- namespaces ------------------------------------------------------------------------------


def test_a_request_type_key_in_another_plugins_namespace_is_refused(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_request_types=lambda: [request_type("healthcare.spill")])
    assert refused(floor) == (
        "plugin 'floor': request type 'healthcare.spill' field 'key' is not namespaced by its "
        "plugin: write 'floor.spill'"
    )


def test_subject_kind_and_article_keys_must_be_namespaced_by_their_plugin(
    plugin: Callable[..., EntryPoint],
) -> None:
    kinds = plugin("kinds", spoc_subject_kinds=lambda: [SubjectKind("rooms.room", "Room")])
    assert refused(kinds) == (
        "plugin 'kinds': subject kind 'rooms.room' field 'key' is not namespaced by its "
        "plugin: write 'kinds.room'"
    )
    article = KnowledgeArticle("help.mop", "Mopping", "How", "Text.")
    articles = plugin("articles", spoc_knowledge_articles=lambda: [article])
    assert refused(articles) == (
        "plugin 'articles': knowledge article 'help.mop' field 'key' is not namespaced by its "
        "plugin: write 'articles.mop'"
    )


def test_a_cli_command_must_carry_its_plugins_name(plugin: Callable[..., EntryPoint]) -> None:
    floor = plugin("floor", spoc_cli_commands=lambda: [click.Command("sweep")])
    assert refused(floor) == (
        "plugin 'floor': CLI command 'sweep' is not namespaced by its plugin: name it 'floor' "
        "(a group) or 'floor-<name>'"
    )
    named = plugin("floor", spoc_cli_commands=lambda: [click.Command("floor-report")])
    assert start(named)


# --- settings sections -----------------------------------------------------------------------


def test_settings_for_a_plugin_that_is_not_installed_are_refused() -> None:
    with pytest.raises(PluginError) as caught:
        start(plugin_settings={"helthcare": {"clinical_team": "clinical"}})
    assert str(caught.value).startswith(
        "plugin 'helthcare': SPOC_HELTHCARE__CLINICAL_TEAM is set, but no plugin 'helthcare' "
        "is installed (installed: "
    )


def test_settings_of_an_installed_but_disabled_plugin_wait_unread() -> None:
    app = start(plugin_settings={"healthcare": {"clinical_team": "anything_at_all"}})
    assert "healthcare" not in spoc_of(app).host.enabled


def test_settings_for_a_plugin_without_settings_are_refused(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_request_types=lambda: [request_type()])
    assert refused(floor, plugin_settings={"floor": {"colour": "red"}}) == (
        "plugin 'floor': SPOC_FLOOR__COLOUR is set, but the plugin has no settings"
    )


def test_a_setting_the_plugins_model_would_ignore_is_refused(
    plugin: Callable[..., EntryPoint],
) -> None:
    floor = plugin("floor", spoc_settings_model=lambda: LooseSettings)
    assert refused(floor, plugin_settings={"floor": {"color": "red"}}) == (
        "plugin 'floor': SPOC_FLOOR__COLOR is not one of the plugin's settings "
        "(its settings: colour)"
    )


# --- everything bundled ----------------------------------------------------------------------


def test_all_bundled_plugins_start_together_with_the_example_plugin() -> None:
    bundled = sorted(
        ep.name
        for ep in installed_entry_points()
        if ep.dist is not None and ep.dist.name == BUNDLED_DISTRIBUTION
    )
    assert {"generic", "healthcare", "projects", "events", "logistics"} <= set(bundled)
    assert sorted(spoc_of(create_app(env="test", database_url="sqlite://")).host.enabled) == (
        bundled
    )
    everything = [*bundled, "facilities"]
    app = create_app(env="test", database_url="sqlite://", plugins=everything)
    assert sorted(spoc_of(app).host.enabled) == sorted(everything)
