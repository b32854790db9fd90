"""Forms generated from pydantic models: every field kind, the HTML constraints, and junk."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from spoc.core.domain.models import Contact, Request, TimelineEvent
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from spoc.core.web.forms import form_spec, validate_form
from tests.conftest import AppFactory, csrf_token
from tests.core.fake_plugins.allkinds import Everything

SPEC = form_spec(Everything)
WIDGETS = {f.name: f.widget for f in SPEC.fields}


def test_every_field_kind_gets_its_widget() -> None:
    assert WIDGETS == {
        "title": "text",
        "story": "textarea",
        "code": "text",
        "count": "number",
        "ratio": "number",
        "agree": "checkbox",
        "day": "date",
        "when": "datetime-local",
        "at": "time",
        "colour": "select",  # five choices: a select; four or fewer are radios
        "size": "select",  # asked for by the plugin, without HTML
        "needs": "checkboxes",
        "email": "email",
        "phone": "tel",
        "notes": "textarea",
    }


def test_constraints_labels_help_and_groups() -> None:
    by = {f.name: f for f in SPEC.fields}
    assert by["title"].attrs == {"maxlength": "80", "minlength": "2"}
    assert by["title"].required and not by["story"].required
    assert by["code"].attrs["pattern"] == "[A-Z]{2}-[0-9]{3}"
    assert by["count"].attrs == {"step": "1", "min": "1", "max": "10"}
    assert by["ratio"].attrs == {"step": "any", "min": "0", "max": "1"}
    assert by["count"].help == "Between 1 and 10"
    assert by["size"].choices[0].label == "Small"
    assert [c.value for c in by["needs"].choices] == ["step_free", "captions", "quiet_room"]
    assert by["needs"].choices[0].label == "Step free"
    assert [g for g, _ in SPEC.groups()] == [None, "Choices"]


def test_validation_reports_each_field_and_keeps_input() -> None:
    form = MultiDict([("title", "x"), ("count", "11"), ("code", "nope"), ("needs", "captions")])
    instance, values, errors = validate_form(Everything, form)
    assert instance is None
    assert values["title"] == "x"
    assert values["needs"] == ["captions"]
    assert set(errors) >= {"title", "count", "code", "day", "colour"}
    assert errors["day"] == "This field is required"


def test_valid_form_becomes_the_model() -> None:
    form = MultiDict(
        [
            ("title", "Hi"),
            ("code", "AB-123"),
            ("count", "3"),
            ("agree", "on"),
            ("day", "2026-03-02"),
            ("when", "2026-03-02T10:30"),
            ("at", "09:15"),
            ("colour", "cyan"),
            ("needs", "captions"),
            ("needs", "quiet_room"),
            ("phone", "+44 20 7946 0000"),
            ("ratio", ""),
        ]
    )
    instance, _, errors = validate_form(Everything, form)
    assert errors == {}
    assert isinstance(instance, Everything)
    assert instance.agree is True and instance.count == 3 and instance.ratio is None
    assert [n.value for n in instance.needs] == ["captions", "quiet_room"]


@pytest.fixture
def everything_app(make_app: AppFactory) -> Flask:
    eps = [
        *installed_entry_points(),
        EntryPoint("allkinds", "tests.core.fake_plugins.allkinds", ENTRY_POINT_GROUP),
    ]
    return make_app(
        plugins=["generic", "allkinds"],
        plugin_entry_points=eps,
        portal_submit_limit="10000 per minute",
    )


def test_generated_html_carries_the_same_constraints(everything_app: Flask) -> None:
    html = everything_app.test_client().get("/new/allkinds.everything").get_data(as_text=True)
    assert re.search(
        r'<input type="text" id="f-title" name="title" value=""\s+'
        r'required maxlength="80" minlength="2"',
        html,
    )
    assert (
        'type="number" id="f-count" name="count" value="" required step="1" min="1" max="10"'
        in html
    )
    assert 'pattern="[A-Z]{2}-[0-9]{3}"' in html
    assert '<input type="date" id="f-day" name="day" value="" required' in html
    assert 'type="datetime-local" id="f-when"' in html and 'type="time" id="f-at"' in html
    assert 'type="tel" id="f-phone"' in html and 'type="email" id="f-email"' in html
    assert '<input type="checkbox" name="needs" value="captions"> Captions' in html
    assert '<select id="f-colour" name="colour" required' in html
    assert '<label for="f-title">Title</label>' in html
    assert 'aria-describedby="f-title-help"' in html
    assert "<legend>Choices</legend>" in html


def _count(app: Flask, model: type) -> int:
    with spoc_of(app).db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


junk = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "0", "-1", "1e309", "on", "2026-02-30", "<script>", "\x00"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(
            [f.name for f in SPEC.fields]
            + ["requester_email", "requester_name", "reference", "intake"]
        ),
        junk,
        max_size=12,
    )
)
def test_random_junk_never_breaks_a_form_or_half_creates(
    everything_app: Flask, data: dict[str, str]
) -> None:
    client = everything_app.test_client()
    token = csrf_token(client)
    before = (
        _count(everything_app, Request),
        _count(everything_app, Contact),
        _count(everything_app, TimelineEvent),
    )
    for key in ("allkinds.everything", "generic.incident", "generic.service_request"):
        response = client.post(f"/new/{key}", data={**data, "csrf_token": token})
        assert response.status_code in (303, 400, 422), response.status_code
        if response.status_code != 303:
            after = (
                _count(everything_app, Request),
                _count(everything_app, Contact),
                _count(everything_app, TimelineEvent),
            )
            assert after == before
        else:
            before = (
                _count(everything_app, Request),
                _count(everything_app, Contact),
                _count(everything_app, TimelineEvent),
            )
