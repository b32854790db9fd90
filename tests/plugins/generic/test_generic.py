from __future__ import annotations

import pytest
from pydantic import ValidationError

from spoc import Actor, Priority
from spoc.plugins.generic import PRIORITY_MATRIX, Incident, Level, ServiceRequest, incident_priority
from tests.conftest import Org


def test_hook_request_types_of_the_generic_plugin(org: Org) -> None:
    host = org.spoc.host
    assert host.request_types.names() == [
        "generic.question",
        "generic.incident",
        "generic.service_request",
    ]
    assert {host.request_types.owner(k) for k in host.request_types.names()} == {"generic"}


def test_hook_subject_kinds_of_the_generic_plugin(org: Org) -> None:
    assert org.spoc.host.subject_kinds.names() == ["generic.account"]


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", Priority.P1),
        ("high", "medium", Priority.P2),
        ("medium", "high", Priority.P2),
        ("high", "low", Priority.P3),
        ("medium", "medium", Priority.P3),
        ("low", "high", Priority.P3),
        ("medium", "low", Priority.P4),
        ("low", "medium", Priority.P4),
        ("low", "low", Priority.P4),
    ],
)
def test_itil_impact_times_urgency(impact: str, urgency: str, priority: Priority) -> None:
    fields = Incident(summary="Mail down", description="x", impact=impact, urgency=urgency)
    assert incident_priority(fields) is priority


def test_matrix_covers_every_combination() -> None:
    assert set(PRIORITY_MATRIX) == {(i, u) for i in Level for u in Level}


def test_password_reset_is_more_urgent_than_equipment(org: Org) -> None:
    reset = org.file(
        type_key="generic.service_request",
        fields={"service": "password_reset", "summary": "Locked out of mail"},
    )
    laptop = org.file(
        type_key="generic.service_request",
        fields={"service": "equipment", "summary": "New laptop for Jo"},
    )
    assert org.spoc.requests.get(reset, Actor.system()).priority is Priority.P2
    assert org.spoc.requests.get(laptop, Actor.system()).priority is Priority.P3


def test_forms_refuse_unknown_fields_and_bad_choices() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ServiceRequest(service="access", summary="Access to CRM", sneaky="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="service"):
        ServiceRequest(service="coffee", summary="Coffee machine")  # type: ignore[arg-type]


def test_stored_fields_are_plain_json(org: Org) -> None:
    rid = org.file(
        type_key="generic.service_request",
        fields={"service": "access", "summary": "CRM access", "needed_by": "2026-03-09"},
    )
    assert org.spoc.requests.get(rid, Actor.system()).fields == {
        "service": "access",
        "summary": "CRM access",
        "details": "",
        "needed_by": "2026-03-09",
    }
