"""Privacy: no clinical detail in mails, the hash-chained access log, break-glass, export and
anonymisation, and the plugin switched off."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, select, update

from spoc.core.domain.models import Contact, Escalation, Message, Subject
from spoc.core.services import spoc_of
from spoc.plugins.healthcare import audit
from spoc.plugins.healthcare.models import AccessEntry
from spoc.plugins.healthcare.records import advance_referral
from tests.conftest import AppFactory, Inbox, csrf_token, login
from tests.plugins.healthcare.conftest import BUSINESS, Hospital, grow_log, make_hospital, run_cli

SECRET = "Stage-4 melanoma biopsy"


def test_no_patient_email_carries_a_clinical_field_or_the_reply(
    make_app: AppFactory, inbox: tuple[Inbox, int]
) -> None:
    app = make_app(plugins=["generic", "healthcare"], smtp_host="127.0.0.1", smtp_port=inbox[1])
    hospital = make_hospital(app)
    spoc = hospital.spoc
    dana = hospital.org.actor(hospital.org.dana)
    filed = {
        "healthcare.appointment": {"action": "book", "service": "Dermatology", "reason": SECRET},
        "healthcare.referral": {
            "what": SECRET,
            "why": SECRET,
            "receiving_organisation": "Skin clinic",
        },
        "healthcare.education": {"topic": "Skin", "question": SECRET},
    }
    for type_key, fields in filed.items():
        request = hospital.file(type_key, fields)
        spoc.requests.post_message(request.id, dana, f"About your {SECRET}: we booked it.")
        spoc.requests.transition(request.id, "resolved", dana, reason=f"{SECRET} sorted")
    spoc.outbox.deliver_due()
    to_patient = inbox[0].to("maria@example.com")
    assert len(to_patient) >= 6  # received + reply + resolved for each
    for mail in to_patient:
        text = mail.as_string()
        assert "melanoma" not in text and "biopsy" not in text, text
        assert "Dermatology" not in text  # not even the service: only that there is news
    updates = [m for m in to_patient if "update" in str(m["Subject"]).lower()]
    assert updates, [m["Subject"] for m in to_patient]
    # Staff mails carry no clinical detail either: email is not a clinical record.
    for mail in inbox[0].messages:
        assert "melanoma" not in mail.as_string()


def read_as(client: object, request_id: int) -> int:
    return int(client.get(f"/console/requests/{request_id}").status_code)  # type: ignore[attr-defined]


def test_every_staff_read_is_logged_and_strangers_need_a_reason(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    navigator = hospital_app.test_client()
    login(navigator, hospital.spoc, hospital.org.dana)
    assert read_as(navigator, request.id) == 200
    stranger = hospital_app.test_client()
    login(stranger, hospital.spoc, hospital.org.sam)  # Tom's navigator, not Maria's
    assert read_as(stranger, request.id) == 403
    token = csrf_token(stranger)
    stranger.post(
        "/console/break-glass",
        data={
            "csrf_token": token,
            "target": f"request:{request.id}",
            "reason": "Patient on the phone, Dana is at lunch",
        },
    )
    assert read_as(stranger, request.id) == 200
    assert stranger.get(f"/console/subjects/{hospital.patient.id}").status_code == 403
    with hospital.spoc.db.reader() as session:
        rows = list(session.scalars(select(AccessEntry).order_by(AccessEntry.id)))
    assert [(r.agent_name, r.what, r.break_glass) for r in rows] == [
        ("Dana Reyes", "request", False),
        ("Sam Patel", "request", True),
    ]
    assert rows[1].purpose == "break-glass: Patient on the phone, Dana is at lunch"
    assert rows[1].role == "agent" and rows[1].subject_id == hospital.patient.id
    # Other subjects' requests are not logged (the generic plugin's account).
    hospital.org.file()
    assert audit.verify(hospital.spoc).rows == 2


def test_audit_verify_passes_on_an_intact_log(hospital: Hospital) -> None:
    grow_log(hospital, 5)
    result = run_cli(hospital, "healthcare", "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact: 5 rows" in result.output


def test_audit_verify_catches_an_altered_row(hospital: Hospital) -> None:
    grow_log(hospital, 5)
    with hospital.spoc.db.transaction() as session:
        session.execute(
            update(AccessEntry).where(AccessEntry.id == 3).values(agent_name="Someone Else")
        )
    result = run_cli(hospital, "healthcare", "audit", "verify")
    assert result.exit_code == 1
    assert "row 3: content was altered" in result.output


def test_audit_verify_catches_a_deleted_row_and_a_cut_tail(hospital: Hospital) -> None:
    grow_log(hospital, 5)
    with hospital.spoc.db.transaction() as session:
        session.execute(delete(AccessEntry).where(AccessEntry.id == 2))
    verdict = audit.verify(hospital.spoc)
    assert "rows 2 to 2 are missing" in verdict.problems
    assert "row 3: does not follow the row before it" in verdict.problems
    with hospital.spoc.db.transaction() as session:
        session.execute(delete(AccessEntry).where(AccessEntry.id >= 4))
    verdict = audit.verify(hospital.spoc)
    assert any("head records row 5" in p for p in verdict.problems)


def test_a_rewritten_chain_is_caught_by_its_head(hospital: Hospital) -> None:
    grow_log(hospital, 3)
    with hospital.spoc.db.transaction() as session:
        last = session.get(AccessEntry, 3)
        assert last is not None
        last.purpose = "edited"
        last.row_hash = audit.legacy_hash(last.prev_hash, last)  # a forger without the key
    assert not audit.verify(hospital.spoc).ok


def test_the_log_exports_as_csv_and_json(hospital: Hospital) -> None:
    grow_log(hospital, 3)
    as_csv = run_cli(hospital, "healthcare", "audit", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["agent_name"] == "Dana Reyes" and len(rows[2]["row_hash"]) == 64
    as_json = run_cli(hospital, "healthcare", "audit", "export", "--format", "json")
    records = json.loads(as_json.output)
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[1]["prev_hash"] == records[0]["hash"]


def test_a_patients_data_exports_and_then_anonymises(hospital: Hospital) -> None:
    spoc = hospital.spoc
    request = hospital.book(reason=SECRET)
    spoc.requests.post_message(request.id, hospital.org.actor(hospital.org.dana), "See you")
    other = hospital.file(
        "healthcare.billing",
        {"invoice_ref": "INV-1", "question": "What is this charge?"},
        subject_id=hospital.other.id,
        requester={"name": "Tom Bright", "email": "tom@example.com"},
    )
    exported = run_cli(
        hospital,
        "healthcare",
        "export-patient",
        str(hospital.patient.id),
        "--admin",
        hospital.org.ada.email,
    )
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.output)
    assert document["patient"]["name"] == "Maria Anders"
    assert document["requests"][0]["fields"]["reason"] == SECRET
    assert document["appointments"][0]["status"] == "proposed"
    refused = run_cli(
        hospital,
        "healthcare",
        "anonymise-patient",
        str(hospital.patient.id),
        "--admin",
        hospital.org.dana.email,
        "--yes",
    )
    assert refused.exit_code == 1 and "not an administrator" in refused.output
    done = run_cli(
        hospital,
        "healthcare",
        "anonymise-patient",
        str(hospital.patient.id),
        "--admin",
        hospital.org.ada.email,
        "--yes",
    )
    assert done.exit_code == 0, done.output
    with spoc.db.reader() as session:
        patient = session.get(Subject, hospital.patient.id)
        assert patient is not None
        assert patient.name == f"Anonymised patient {hospital.patient.id}"
        assert patient.external_ref is None
        assert patient.attributes["birth_year"] == "1958"
        assert "date_of_birth" not in patient.attributes
        stored = session.get(type(request), request.id)
        assert stored is not None and stored.fields == {} and stored.type_key
        assert session.scalar(select(Message.body).where(Message.request_id == request.id)) == (
            "[removed]"
        )
        contact = session.get(Contact, request.contact_id)
        assert contact is not None and contact.email.endswith("@anonymised.invalid")
        untouched = session.get(type(request), other.id)
        assert untouched is not None and untouched.fields["invoice_ref"] == "INV-1"
    text = run_cli(
        hospital,
        "healthcare",
        "export-patient",
        str(hospital.patient.id),
        "--admin",
        hospital.org.ada.email,
    ).output
    assert "Maria" not in text and SECRET not in text


def test_referral_watches_escalate_once_unless_it_was_accepted(make_app: AppFactory) -> None:
    # Five business days on a Monday-to-Friday calendar: filed Monday 09:00, due Friday 17:00.
    hospital = make_hospital(make_app(plugins=["generic", "healthcare"], calendars=BUSINESS))
    spoc, clock = hospital.spoc, hospital.spoc.clock
    waiting = hospital.file(
        "healthcare.referral", {"what": "MRI scan", "receiving_organisation": "Imaging"}
    )
    accepted = hospital.file(
        "healthcare.referral", {"what": "CT scan", "receiving_organisation": "Imaging"}
    )
    advance_referral(spoc, accepted.id, hospital.org.actor(hospital.org.dana), "accepted", "")
    clock.advance(timedelta(days=4))  # type: ignore[attr-defined]
    spoc.sweep()
    assert hospital.get(waiting.id).escalation_level == 0
    clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    first = spoc.sweep()
    second = spoc.sweep()
    assert first.plugin_triggers == 1 and second.plugin_triggers == 0
    with spoc.db.reader() as session:
        triggers = {
            e.trigger
            for e in session.scalars(
                select(Escalation).where(Escalation.request_id.in_([waiting.id, accepted.id]))
            )
        }
    assert "plugin:healthcare:referral_not_accepted" in triggers
    assert hospital.get(accepted.id).escalation_level == 0


def test_a_standard_prior_authorisation_escalates_after_seven_days(make_app: AppFactory) -> None:
    hospital = make_hospital(make_app(plugins=["generic", "healthcare"], calendars=BUSINESS))
    spoc = hospital.spoc
    request = hospital.file(
        "healthcare.billing",
        {
            "invoice_ref": "PA-1",
            "question": "Is my MRI approved yet?",
            "prior_authorisation_pending_since": spoc.clock.now().date().isoformat(),
        },
    )
    spoc.clock.advance(timedelta(days=6))  # type: ignore[attr-defined]
    assert spoc.sweep().plugin_triggers == 0
    spoc.clock.advance(timedelta(days=1, hours=1))  # type: ignore[attr-defined]
    assert spoc.sweep().plugin_triggers == 1
    with spoc.db.reader() as session:
        triggers = [e.trigger for e in session.query(Escalation).filter_by(request_id=request.id)]
    assert triggers == ["plugin:healthcare:prior_authorisation"]


def test_with_the_plugin_disabled_its_requests_stay_readable_and_nothing_runs(
    make_app: AppFactory,
) -> None:
    on = make_app(plugins=["generic", "healthcare"])
    hospital = make_hospital(on)
    request = hospital.book(reason=SECRET)
    hospital.file("healthcare.referral", {"what": "MRI scan", "receiving_organisation": "Imaging"})
    off = make_app(plugins=["generic"])
    spoc = spoc_of(off)
    client = off.test_client()
    login(client, spoc, hospital.org.ada)  # a stranger: the plugin would ask why
    page = client.get(f"/console/requests/{request.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "healthcare.appointment" in html and "Cardiology" in html
    assert "Calendar invitation" not in html  # no exports, no panels
    with spoc.db.reader() as session:
        assert session.scalar(select(AccessEntry.id).limit(1)) is None
    assert client.get("/p/healthcare/requests/1/appointment").status_code == 404
    # Its sweep checks do not run either: the referral watch stays due and unseen.
    spoc.clock.advance(timedelta(days=40))  # type: ignore[attr-defined]
    assert spoc.sweep().plugin_triggers == 0


def test_concurrent_reads_keep_one_unbroken_chain(hospital: Hospital) -> None:
    """Four threads append at once; on PostgreSQL they queue on the chain head's row lock,
    also when the head row is missing and the first appenders race to create it."""
    import threading

    from spoc.plugins.healthcare.models import ChainHead

    with hospital.spoc.db.transaction() as session:
        session.execute(delete(ChainHead))
    errors: list[BaseException] = []

    def reads() -> None:
        try:
            grow_log(hospital, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reads) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = audit.verify(hospital.spoc)
    assert verdict.ok, verdict.problems
    assert verdict.rows == 40


def test_api_reads_of_a_patient_are_logged_and_need_a_reason_from_strangers(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    org = hospital.org
    _, sams = hospital.spoc.tokens.create(org.actor(org.ada), org.sam.email, "Sam's script")
    client = hospital_app.test_client()
    headers = {"Authorization": f"Bearer {sams}"}
    reference = hospital.spoc.requests.reference(request.id)
    for path in (
        f"/api/v1/requests/{reference}",
        f"/api/v1/requests/{reference}/timeline",
        f"/api/v1/subjects/{hospital.patient.id}",
        f"/api/v1/requests/{reference}/exports/appointment.ics",
    ):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json["reason_required"] is True  # type: ignore[index]
        allowed = client.get(path, headers={**headers, "SPOC-Access-Reason": "Night cover"})
        assert allowed.status_code == 200, path
    with hospital.spoc.db.reader() as session:
        rows = list(session.scalars(select(AccessEntry).order_by(AccessEntry.id)))
    assert [(r.what, r.channel, r.break_glass) for r in rows] == [
        ("request", "api", True),
        ("timeline", "api", True),
        ("subject", "api", True),
        ("export:appointment.ics", "api", True),
    ]
    # Tom's record is Sam's own: no reason needed, still logged.
    assert client.get(f"/api/v1/subjects/{hospital.other.id}", headers=headers).status_code == 200
    assert audit.verify(hospital.spoc).rows == 5


def test_changing_a_patients_appointment_needs_a_reason_from_strangers(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book()
    stranger = hospital_app.test_client()
    login(stranger, hospital.spoc, hospital.org.sam)
    token = csrf_token(stranger)
    action = f"/p/healthcare/requests/{request.id}/appointment"
    form = {"csrf_token": token, "action": "cancel", "reason": "Clinic closed"}
    refused = stranger.post(action, data=form)
    assert refused.status_code == 403
    assert f'value="/console/requests/{request.id}"' in refused.get_data(as_text=True)
    from spoc.plugins.healthcare.records import appointment_for_request

    with hospital.spoc.db.reader() as session:
        found = appointment_for_request(session, request.id)
        assert found is not None and found.status == "proposed"  # nothing changed
    stranger.post(
        "/console/break-glass",
        data={
            "csrf_token": token,
            "target": f"request:{request.id}",
            "reason": "Clinic closed, calling all patients",
        },
    )
    assert stranger.post(action, data=form).status_code == 303
    with hospital.spoc.db.reader() as session:
        found = appointment_for_request(session, request.id)
        assert found is not None and found.status == "cancelled"
        flagged = session.scalar(
            select(AccessEntry).where(AccessEntry.what == "appointment:change")
        )
    assert flagged is not None and flagged.break_glass


def test_the_request_list_api_shows_no_clinical_fields(
    hospital_app: Flask, hospital: Hospital
) -> None:
    request = hospital.book(reason=SECRET)
    org = hospital.org
    _, secret = hospital.spoc.tokens.create(org.actor(org.ada), org.dana.email, "Dana's script")
    client = hospital_app.test_client()
    listed = client.get(
        "/api/v1/requests?type=healthcare.appointment",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert listed.status_code == 200
    (item,) = listed.json["items"]  # type: ignore[index]
    assert item["fields"] == {} and SECRET not in listed.get_data(as_text=True)
    one = client.get(
        f"/api/v1/requests/{hospital.spoc.requests.reference(request.id)}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert one.json["fields"]["reason"] == SECRET  # type: ignore[index]


def test_webhooks_about_patients_carry_no_detail(make_app: AppFactory) -> None:
    from spoc.core.domain.models import OutboxMessage

    app = make_app(
        plugins=["generic", "healthcare"],
        webhook_urls=["http://127.0.0.1:9/hook"],
        webhook_secret="test-signing-secret-0123456789",
    )
    hospital = make_hospital(app)
    hospital.book(reason="I feel suicidal since the news")
    with hospital.spoc.db.reader() as session:
        bodies = list(
            session.scalars(
                select(OutboxMessage.body_text).where(OutboxMessage.channel == "webhook")
            )
        )
    assert bodies
    for body in bodies:
        assert "suicidal" not in body and "red flag" not in body
        assert json.loads(body)["data"] == {}
