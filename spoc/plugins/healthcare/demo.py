"""Demo: patients with navigators and deputies, appointments in several states, a referral, a
discharge follow-up, and one red-flag message."""

from __future__ import annotations

from datetime import timedelta

from spoc import Actor, DemoContext
from spoc.plugins.healthcare.audit import chain_of
from spoc.plugins.healthcare.patients import Discharge as DischargeIn
from spoc.plugins.healthcare.patients import PatientContact, record_discharge
from spoc.plugins.healthcare.records import APPOINTMENT, REFERRAL, act_on_appointment
from spoc.plugins.healthcare.settings import settings_of

PATIENT = "healthcare.patient"


def add_demo_data(demo: DemoContext) -> None:
    spoc = demo.spoc
    settings = settings_of(spoc)
    chain_of(spoc).forget_anchor()  # a fresh demo database: its log starts from nothing
    # Kim, the demo's specialist, is the nurse on call.
    spoc.directory.add_team(
        key=settings.clinical_team,
        name="Clinical team (nurses on call)",
        members=[demo.agents["kim"].id],
    )
    people = [
        ("Amina Haddad", "1958-04-12", "MRN-4K7Q2X", "ar", True, "dana", ("lee", "sam")),
        ("George Miller", "1947-11-02", "MRN-9D3MTB", "en", False, "lee", ("dana",)),
        ("Lucía Fernández", "1990-06-30", "MRN-H62WZ8", "es", False, "sam", ("lee",)),
    ]
    patients = {}
    for name, born, mrn, language, interpreter, navigator, deputies in people:
        patients[mrn] = demo.add_subject(
            PATIENT,
            name,
            spoc=navigator,
            deputies=deputies,
            external_ref=mrn,
            attributes={
                "date_of_birth": born,
                "record_number": mrn,
                "preferred_language": language,
                "interpreter_needed": interpreter,
                "preferred_channel": "phone",
            },
        )
    amina, george, lucia = patients.values()
    now = spoc.clock.now()
    slot = (now + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)

    def book(subject_id: int, contact: tuple[str, str], service: str) -> int:
        return demo.requests.create(
            type_key=APPOINTMENT,
            fields={"action": "book", "service": service, "preferred_slots": "mornings"},
            requester={"name": contact[0], "email": contact[1]},
            subject_id=subject_id,
        ).id

    amina_contact = ("Amina Haddad", "amina.haddad@example.com")
    george_contact = ("George Miller", "george.miller@example.com")
    # Requested, not yet booked.
    book(amina.id, amina_contact, "Cardiology")
    # Booked, then moved (SEQUENCE 1).
    moved = book(george.id, george_contact, "Physiotherapy")
    act_on_appointment(
        spoc,
        settings,
        moved,
        demo.actor("lee"),
        "confirm",
        start=slot,
        end=slot + timedelta(minutes=30),
        location="Outpatients, level 2",
    )
    later = slot + timedelta(days=2)
    act_on_appointment(
        spoc,
        settings,
        moved,
        demo.actor("lee"),
        "reschedule",
        start=later,
        end=later + timedelta(minutes=30),
        reason="Clinic closed that morning",
    )
    # Booked, then cancelled by staff.
    cancelled = book(george.id, george_contact, "Dermatology")
    act_on_appointment(
        spoc,
        settings,
        cancelled,
        demo.actor("lee"),
        "confirm",
        start=slot + timedelta(hours=2),
        end=slot + timedelta(hours=2, minutes=20),
    )
    act_on_appointment(
        spoc, settings, cancelled, demo.actor("lee"), "cancel", reason="Clinician unavailable"
    )
    # A referral waiting for acceptance.
    demo.requests.create(
        type_key=REFERRAL,
        fields={
            "what": "Sleep study",
            "why": "Suspected sleep apnoea",
            "priority": "routine",
            "receiving_organisation": "Regional Sleep Centre",
        },
        requester={"name": "Lucía Fernández", "email": "lucia.fernandez@example.com"},
        subject_id=lucia.id,
    )
    # A discharge yesterday: the follow-up call is due.
    record_discharge(
        spoc,
        Actor.system("demo"),
        DischargeIn(
            patient_id=george.id,
            discharged_at=now - timedelta(hours=20),
            follow_up_visit="GP in 7 days",
            contact=PatientContact(name="George Miller", email="george.miller@example.com"),
        ),
    )
    # A red flag: the patient sees the emergency notice, the clinical team is alerted.
    demo.requests.create(
        type_key=APPOINTMENT,
        fields={
            "action": "book",
            "service": "General practice",
            "reason": "I have chest pain since this morning",
        },
        requester={"name": amina_contact[0], "email": amina_contact[1]},
        subject_id=amina.id,
    )
