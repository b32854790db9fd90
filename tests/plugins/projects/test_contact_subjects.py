"""A signed-in sponsor or workstream lead is offered their own projects on the form."""

from __future__ import annotations

from spoc.plugins.projects.keys import PROJECT, QUESTION, WORKSTREAM
from tests.plugins.projects.conftest import Office


def contact_of(office: Office, email: str) -> int:
    request = office.spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Hello", "details": ""},
        requester={"name": "Someone", "email": email},
    )
    return request.contact_id


def test_a_sponsor_is_offered_their_project_and_a_lead_their_workstream(office: Office) -> None:
    spoc = office.spoc
    kinds = spoc.host.request_types.get(QUESTION).subject_kinds  # type: ignore[union-attr]
    grace = contact_of(office, "grace@example.com")
    assert [c.id for c in spoc.requests.subjects_of_contact(grace, kinds)] == [office.apollo.id]
    ivo = contact_of(office, "ivo@example.com")
    assert [c.name for c in spoc.requests.subjects_of_contact(ivo, kinds)] == ["Backend"]
    assert spoc.requests.subjects_of_contact(ivo, (PROJECT,)) == []
    assert [c.kind for c in spoc.requests.subjects_of_contact(ivo, (WORKSTREAM,))] == [WORKSTREAM]
    stranger = contact_of(office, "eve@example.com")
    assert spoc.requests.subjects_of_contact(stranger, kinds) == []
