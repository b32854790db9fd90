"""Loading plugins: what starts, what stops start-up, and how contributions combine."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from flask import Flask
from pydantic import BaseModel

from spoc import (
    Actor,
    PluginContractError,
    PluginError,
    Priority,
    Saved,
    Structure,
    ValidationFailed,
    create_app,
)
from spoc.core.kernel.errors import DuplicateContributionError
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org
from tests.core.fake_plugins import tuning


def fake(name: str) -> EntryPoint:
    return EntryPoint(name, f"tests.core.fake_plugins.{name}", ENTRY_POINT_GROUP)


def with_fakes(*names: str) -> list[EntryPoint]:
    return [*installed_entry_points(), *(fake(n) for n in names)]


def start(plugins: list[str], *fakes: str, **settings: object) -> Flask:
    return create_app(
        env="test",
        database_url="sqlite://",
        plugins=plugins,
        plugin_entry_points=with_fakes(*fakes),
        **settings,
    )


def test_bundled_plugins_are_enabled_by_default() -> None:
    app = create_app(env="test", database_url="sqlite://")
    host = spoc_of(app).host
    assert "generic" in host.enabled
    assert "facilities" not in host.enabled  # installed, but not bundled: opt-in
    info = {p.name: p for p in host.plugins}
    assert info["generic"].bundled and info["generic"].enabled
    assert not info["facilities"].bundled and not info["facilities"].enabled


def test_a_plugin_that_fails_to_import_stops_startup_naming_it() -> None:
    with pytest.raises(PluginError) as caught:
        start(["generic", "broken"], "broken")
    message = str(caught.value)
    assert message.startswith("plugin 'broken': failed to import")
    assert "spoc_dependency_that_is_not_installed" in message


def test_an_installed_but_disabled_broken_plugin_is_never_imported() -> None:
    app = start(["generic"], "broken")
    installed = {ep.name for ep in installed_entry_points()}
    disabled = [p.name for p in spoc_of(app).host.plugins if not p.enabled]
    assert disabled == sorted({"broken", *installed} - {"generic"})


def test_an_enabled_plugin_that_is_not_installed_stops_startup() -> None:
    with pytest.raises(PluginError, match=r"plugin 'ghost': is enabled in SPOC_PLUGINS but not"):
        start(["generic", "ghost"])


def test_a_duplicate_request_type_names_both_plugins() -> None:
    with pytest.raises(DuplicateContributionError) as caught:
        start(["generic", "duplicate_type"], "duplicate_type")
    assert str(caught.value) == (
        "duplicate request type 'generic.question': contributed by plugin 'duplicate_type' "
        "and by plugin 'generic'"
    )
    assert {caught.value.first_plugin, caught.value.second_plugin} == {
        "generic",
        "duplicate_type",
    }


def test_a_duplicate_subject_kind_names_both_plugins() -> None:
    with pytest.raises(DuplicateContributionError, match=r"'duplicate_kind'.*'generic'"):
        start(["generic", "duplicate_kind"], "duplicate_kind")


def test_an_unknown_hook_stops_startup_naming_the_plugin() -> None:
    with pytest.raises(PluginError, match=r"plugin 'unknown_hook'.*spoc_request_typez"):
        start(["unknown_hook"], "unknown_hook")


def test_a_hook_returning_the_wrong_type_names_the_plugin() -> None:
    with pytest.raises(PluginError, match=r"plugin 'wrong_return'.*expected RequestType"):
        start(["wrong_return"], "wrong_return")


@pytest.mark.parametrize(
    ("plugin", "hook", "option", "instead"),
    [
        ("wrapping", "spoc_classify_request", "wrapper", "return a plain answer"),
        ("old_wrapper", "spoc_request_event", "hookwrapper", "return a plain answer"),
        ("first_in_line", "spoc_route_request", "tryfirst", "Routing.order"),
        ("last_in_line", "spoc_classify_request", "trylast", "Routing.order"),
    ],
)
def test_a_pluggy_ordering_option_the_core_ignores_is_refused_naming_plugin_and_hook(
    plugin: str, hook: str, option: str, instead: str
) -> None:
    with pytest.raises(PluginContractError) as caught:
        start(["generic", plugin], plugin)
    message = str(caught.value)
    assert message.startswith(f"plugin {plugin!r}: {hook}: @hookimpl({option}=True) is not")
    assert instead in message
    assert (caught.value.plugin, caught.value.hook) == (plugin, hook)
    assert isinstance(caught.value, PluginError)  # callers that catch start-up errors still do


def test_the_same_plugin_name_from_two_distributions_is_refused() -> None:
    twice = [*installed_entry_points(), EntryPoint("generic", "spoc.plugins.generic", "x")]
    with pytest.raises(PluginError, match="plugin 'generic': installed twice"):
        create_app(env="test", database_url="sqlite://", plugin_entry_points=twice)


def test_registries_order_by_explicit_order_then_key_not_registration() -> None:
    app = start(["generic"])
    keys = spoc_of(app).host.request_types.names()
    assert keys == ["generic.question", "generic.incident", "generic.service_request"]


def test_hook_settings_model_validates_the_plugin_section() -> None:
    app = start(
        ["generic", "tuning"], "tuning", plugin_settings={"tuning": {"urgent_word": "fire"}}
    )
    section = spoc_of(app).plugin_settings("tuning", tuning.TuningSettings)
    assert section.urgent_word == "fire"


def test_hook_settings_model_refuses_bad_values_naming_plugin_and_field() -> None:
    with pytest.raises(PluginError) as caught:
        start(["tuning"], "tuning", plugin_settings={"tuning": {"urgent_word": ""}})
    assert "plugin 'tuning': invalid settings: SPOC_TUNING__URGENT_WORD" in str(caught.value)


def test_hook_settings_model_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOC_TUNING__URGENT_WORD", "smoke")
    monkeypatch.setenv("SPOC_TUNING__ROUTE_ORDER", "7")
    app = start(["tuning"], "tuning")
    section = spoc_of(app).plugin_settings("tuning", tuning.TuningSettings)
    assert (section.urgent_word, section.route_order) == ("smoke", 7)


def _org_for(app: Flask) -> Org:
    spoc = spoc_of(app)
    d = spoc.directory
    dana = d.add_agent(email="dana@example.org", name="Dana Reyes", role="agent")
    desk = d.add_team(key="desk", name="Service desk")
    d.add_team(key="rivals", name="Rivals")
    d.add_team(key="firefighters", name="Firefighters")
    account = d.add_subject(
        kind="generic.account", name="Acme", spoc_agent_id=dana.id, external_ref="AC-1"
    )
    return Org(spoc, dana, dana, dana, dana, dana, dana, desk, desk, account)


def test_hook_classify_request_most_urgent_answer_wins_and_is_explained(
    make_app: AppFactory,
) -> None:
    org = _org_for(
        make_app(
            plugins=["generic", "tuning"],
            plugin_entry_points=with_fakes("tuning"),
        )
    )
    rid = org.file(fields={"summary": "Flood in the basement"})
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.priority is Priority.P1
    created = org.spoc.requests.timeline(rid, Actor.system())[0]
    assert created.data["priority_reason"] == "P1 set by plugin tuning"
    calm = org.file(fields={"summary": "A question about invoices"})
    assert org.spoc.requests.get(calm, Actor.system()).priority is Priority.P4


def test_hook_route_request_lowest_order_wins_then_plugin_name(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "tuning", "rival_router"],
        plugin_entry_points=with_fakes("tuning", "rival_router"),
        plugin_settings={"tuning": {"route_team": "firefighters", "route_order": 10}},
    )
    org = _org_for(app)
    rid = org.file()
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.owner_team_id is not None
    assigned = org.spoc.requests.timeline(rid, Actor.system())[1]
    assert assigned.summary == "tuning sends it to firefighters (routing by plugin tuning)"


def test_hook_route_request_ties_on_order_break_by_plugin_name(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "tuning", "rival_router"],
        plugin_entry_points=with_fakes("tuning", "rival_router"),
        plugin_settings={"tuning": {"route_team": "firefighters", "route_order": 50}},
    )
    org = _org_for(app)
    rid = org.file()
    assigned = org.spoc.requests.timeline(rid, Actor.system())[1]
    # Both say order 50: "rival_router" sorts before "tuning".
    assert assigned.summary == "the rival router wants it (routing by plugin rival_router)"


def test_hook_request_event_runs_after_commit_for_every_event(make_app: AppFactory) -> None:
    org = _org_for(
        make_app(plugins=["generic", "tuning"], plugin_entry_points=with_fakes("tuning"))
    )
    tuning.SEEN.clear()
    rid = org.file()
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Hello")
    reference = org.spoc.requests.reference(rid)
    seen = tuning.SEEN
    assert seen == [
        ("created", reference),
        ("assigned", reference),
        ("message", reference),
        ("status_changed", reference),
    ]


def test_hook_request_event_failure_is_logged_and_does_not_undo_the_change(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        plugins=["generic", "tuning"],
        plugin_entry_points=with_fakes("tuning"),
        plugin_settings={"tuning": {"fail_on_events": True}},
    )
    org = _org_for(app)
    rid = org.file()
    assert org.spoc.requests.get(rid, Actor.system()).version == 1
    assert "plugin 'tuning' failed in spoc_request_event" in caplog.text


def test_hook_resolve_subject_finds_subjects_by_plugin_references(make_app: AppFactory) -> None:
    org = _org_for(
        make_app(plugins=["generic", "tuning"], plugin_entry_points=with_fakes("tuning"))
    )
    question = org.spoc.host.request_types.get("generic.question")
    assert question is not None
    resolve = org.spoc.requests.resolve_subject_reference
    assert resolve(f"ORD-{org.account.id}", question) == org.account.id
    # The core's own match on external references comes first.
    assert resolve(org.account.external_ref or "", question) == org.account.id
    with pytest.raises(ValidationFailed, match="could not find"):
        resolve("ORD-x", question)


def test_a_structure_under_an_unknown_kind_stops_startup_naming_it() -> None:
    with pytest.raises(PluginError, match=r"'stray_structure'.*unknown subject kind nobody.site"):
        start(["generic", "stray_structure"], "stray_structure")


def test_a_structure_repeating_an_attribute_of_its_kind_stops_startup() -> None:
    with pytest.raises(PluginError, match=r"'clashing_structure'.*clash.*floor"):
        start(["generic", "clashing_structure"], "clashing_structure")


def test_a_structure_must_say_what_it_belongs_to_and_how_it_is_found_again() -> None:
    class Row(BaseModel):
        code: str

    def save(item: object) -> Saved:
        return Saved.CREATED

    with pytest.raises(ValueError, match="exactly one"):
        Structure("x.row", "Row", Row, save)
    with pytest.raises(ValueError, match="key_fields"):
        Structure("x.row", "Row", Row, save, parent_kind="x.site")
    with pytest.raises(ValueError, match="key_fields must be fields"):
        Structure("x.row", "Row", Row, save, parent_kind="x.site", key_fields=("name",))
