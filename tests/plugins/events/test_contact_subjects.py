"""A signed-in attendee or vendor contact is offered their own events on the form."""

from __future__ import annotations

from spoc.plugins.events import attendees
from spoc.plugins.events.program import EVENT
from tests.plugins.events.conftest import Expo


def contact_of(expo: Expo, email: str) -> int:
    request = expo.spoc.requests.create(
        type_key="generic.question",
        fields={"summary": "Hello", "details": ""},
        requester={"name": "Someone", "email": email},
    )
    return request.contact_id


def test_an_attendee_and_a_vendor_are_offered_their_event(expo: Expo) -> None:
    spoc = expo.spoc
    attendees.import_attendees(
        spoc, expo.event.id, [(2, {"email": "lena@example.com", "name": "Lena Vogel"})]
    )
    lena = contact_of(expo, "lena@example.com")
    [offered] = spoc.requests.subjects_of_contact(lena, (EVENT,))
    assert offered.id == expo.event.subject_id
    crew = contact_of(expo, "crew@brightstage.example")
    assert [c.id for c in spoc.requests.subjects_of_contact(crew, (EVENT,))] == [
        expo.event.subject_id
    ]
    assert spoc.requests.subjects_of_contact(contact_of(expo, "eve@example.com"), (EVENT,)) == []
