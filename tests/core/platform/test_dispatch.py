"""The typed hook dispatcher: answers checked against the spec, failures named, isolation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from spoc import Actor, PluginContractError, Priority, Request, RequestType, Triage
from spoc.core.platform import hookspecs
from spoc.core.platform.dispatch import check_answer
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, build_org
from tests.core.fake_plugins import bad_answers
from tests.core.platform.test_plugins import with_fakes


def test_a_wrong_answer_at_intake_is_refused_naming_plugin_hook_expected_and_got(
    make_app: AppFactory,
) -> None:
    spoc = spoc_of(
        make_app(plugins=["generic", "bad_answers"], plugin_entry_points=with_fakes("bad_answers"))
    )
    org = build_org(spoc)
    with pytest.raises(PluginContractError) as caught:
        org.file(fields={"summary": "WRONG answer please"})
    error = caught.value
    assert error.plugin == "bad_answers"
    assert error.hook == "spoc_triage_request"
    assert str(error) == ("plugin 'bad_answers': spoc_triage_request returned str, expected Triage")
    # Nothing was filed: the refusal came before the transaction committed.
    with spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0
    rid = org.file(fields={"summary": "A fine question"})  # a right (None) answer files
    assert org.spoc.requests.get(rid, Actor.system()).priority in Priority


def test_in_the_sweep_a_failing_or_wrong_plugin_is_reported_and_the_pass_goes_on(
    make_app: AppFactory,
) -> None:
    from tests.core.fake_plugins import chores

    app = make_app(
        plugins=["generic", "bad_answers", "chores"],
        plugin_entry_points=with_fakes("bad_answers", "chores"),
    )
    spoc = spoc_of(app)
    chores.FAIL[0] = False
    bad_answers.FAIL_TASK[0] = True
    try:
        report = spoc.sweep()
        assert report.errors == ["bad_answers: RuntimeError: the feed is down"]
        assert report.plugin_tasks == 1  # chores still ran
        bad_answers.FAIL_TASK[0] = False
        report = spoc.sweep()
    finally:
        bad_answers.FAIL_TASK[0] = True
    assert report.errors == [
        "bad_answers: PluginContractError: plugin 'bad_answers': spoc_sweep_tasks returned "
        "str, expected int"
    ]


@pytest.mark.parametrize(
    ("spec", "answer", "message"),
    [
        (
            hookspecs.spoc_request_types,
            ["nope"],
            "returned a list holding str, expected RequestType items",
        ),
        (
            hookspecs.spoc_request_types,
            "generic.question",
            "returned str, expected Sequence[RequestType]",
        ),
        (hookspecs.spoc_classify_request, "urgent", "returned str, expected Priority"),
        (hookspecs.spoc_settings_model, dict, "returned type, expected type[BaseModel]"),
        (hookspecs.spoc_sweep_tasks, 1.5, "returned float, expected int"),
        (hookspecs.spoc_form_defaults, ["a"], "returned list, expected Mapping[str, Any]"),
    ],
)
def test_an_answer_is_checked_against_the_specs_declared_return_type(
    spec: object, answer: object, message: str
) -> None:
    with pytest.raises(PluginContractError) as caught:
        check_answer(spec, "someplugin", answer)  # type: ignore[arg-type]
    assert caught.value.plugin == "someplugin"
    assert message in str(caught.value)


def test_right_answers_pass_the_check() -> None:
    from pydantic import BaseModel

    kinds = [RequestType.__new__(RequestType)]
    check_answer(hookspecs.spoc_request_types, "p", kinds)
    check_answer(hookspecs.spoc_classify_request, "p", Priority.P1)
    check_answer(hookspecs.spoc_triage_request, "p", Triage(reason="r", priority=Priority.P1))
    check_answer(hookspecs.spoc_settings_model, "p", BaseModel)
    check_answer(hookspecs.spoc_sweep_tasks, "p", 3)
    check_answer(hookspecs.spoc_form_defaults, "p", {"summary": "x"})


def test_only_hook_specifications_can_be_called(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app())

    def spoc_request_types() -> list[RequestType]:
        return []

    with pytest.raises(TypeError, match="not a SPOC hook specification"):
        spoc.hooks.each(spoc_request_types)


def test_answers_come_in_plugin_name_order(make_app: AppFactory) -> None:
    spoc = spoc_of(make_app(plugins=["generic", "healthcare", "events"]))
    sections = spoc.host.settings_sections
    answers = spoc.hooks.each(hookspecs.spoc_request_types, settings_sections=sections)
    plugins = [plugin for plugin, _ in answers]
    assert plugins == sorted(plugins)
    assert len(plugins) > 1
