"""A hospital: navigators (Dana, with deputies Lee and Sam), a clinical team, patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

import spoc.testing as spoc_testing
from spoc import Actor, Request, Spoc, StaffAccess, Subject, spoc_of
from spoc.testing import AppFactory
from tests.conftest import Org, build_org

PATIENT = "healthcare.patient"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BUSINESS = {
    "default": {"timezone": "Europe/London", "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}}
}


@dataclass
class Hospital:
    org: Org
    patient: Subject
    other: Subject

    @property
    def spoc(self) -> Spoc:
        return self.org.spoc

    def file(self, type_key: str, fields: dict[str, Any], **kw: Any) -> Request:
        return self.spoc.requests.create(
            type_key=type_key,
            fields=fields,
            requester=kw.pop("requester", {"name": "Maria Anders", "email": "maria@example.com"}),
            subject_id=kw.pop("subject_id", self.patient.id),
            **kw,
        )

    def book(self, **fields: Any) -> Request:
        return self.file(
            "healthcare.appointment", {"action": "book", "service": "Cardiology", **fields}
        )

    def get(self, request_id: int) -> Request:
        return self.spoc.requests.get(request_id, Actor.system())


def make_hospital(app: Flask) -> Hospital:
    spoc = spoc_of(app)
    org = build_org(spoc)
    spoc.directory.add_team(key="clinical", name="Clinical team", members=[org.kim.id])
    details = {"date_of_birth": "1958-04-12", "preferred_language": "en"}
    patient = spoc.directory.add_subject(
        kind=PATIENT,
        name="Maria Anders",
        spoc_agent_id=org.dana.id,
        deputies=[org.lee.id],
        external_ref="MRN-1",
        attributes={**details, "record_number": "MRN-1"},
    )
    other = spoc.directory.add_subject(
        kind=PATIENT,
        name="Tom Bright",
        spoc_agent_id=org.sam.id,
        external_ref="MRN-2",
        attributes={**details, "record_number": "MRN-2"},
    )
    return Hospital(org, patient, other)


@pytest.fixture
def hospital_app(make_app: AppFactory) -> Flask:
    return make_app(plugins=["generic", "healthcare"])


@pytest.fixture
def hospital(hospital_app: Flask) -> Hospital:
    return make_hospital(hospital_app)


def run_cli(hospital: Hospital, *args: str, input: str | None = None) -> Any:
    """``spoc <args>`` as an operator runs it: a fresh app from the environment (the same
    instance folder as the test's app: the access log's anchor lives there)."""
    return spoc_testing.run_cli(hospital.spoc, *args, input=input)


def grow_log(hospital: Hospital, reads: int) -> None:
    """Append ``reads`` of the patient's record by the navigator to the access log."""
    from spoc.plugins.healthcare import audit

    for n in range(reads):
        audit.append(
            hospital.spoc,
            StaffAccess(
                actor=hospital.org.actor(hospital.org.dana),
                what="request",
                channel="console",
                own=True,
                at=hospital.spoc.clock.now() + timedelta(seconds=n),
                subject_id=hospital.patient.id,
            ),
        )
