"""The request service: intake, messages, ownership, feedback — and refusals that change nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from spoc import (
    Actor,
    ConflictError,
    FrozenClock,
    IllegalTransition,
    NotFoundError,
    PermissionDenied,
    Priority,
    Status,
    ValidationFailed,
)
from spoc.core.domain.models import Contact, Message, Request, TimelineEvent
from tests.conftest import Org


def count(org: Org, model: type) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def snapshot(org: Org, rid: int) -> tuple:
    request = org.spoc.requests.get(rid, Actor.system())
    events = org.spoc.requests.timeline(rid, Actor.system())
    return (
        request.version,
        request.status,
        request.priority,
        request.owner_agent_id,
        request.escalation_level,
        len(events),
    )


def test_created_request_is_new_versioned_and_referenced(org: Org) -> None:
    rid = org.file()
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.status is Status.NEW
    assert request.version == 1
    assert request.summary == "Where is my invoice?"
    assert org.spoc.requests.reference(rid) == f"REQ-{rid:05d}"
    assert org.spoc.requests.find_by_reference(f"req-{rid:05d}", Actor.system()).id == rid


def test_existing_contact_is_matched_by_email_case_insensitively(org: Org) -> None:
    org.file()
    org.file(requester={"name": "M. Anders", "email": "MARIA@example.com"})
    assert count(org, Contact) == 1


def test_invalid_fields_are_refused_naming_the_field_and_nothing_is_created(org: Org) -> None:
    with pytest.raises(ValidationFailed) as caught:
        org.file(fields={"summary": "x"})
    assert "fields.summary" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        org.file(requester={"name": "", "email": "not-an-email"})
    assert set(caught.value.errors) == {"requester.name", "requester.email"}
    assert count(org, Request) == 0
    assert count(org, Contact) == 0
    assert count(org, TimelineEvent) == 0


def test_unknown_request_type_and_subject_are_refused(org: Org) -> None:
    with pytest.raises(ValidationFailed) as caught:
        org.file(type_key="generic.nope")
    assert caught.value.errors == {"type": "no request type 'generic.nope'"}
    with pytest.raises(ValidationFailed) as caught:
        org.file(subject_id=999_999)
    assert "subject_id" in caught.value.errors
    assert count(org, Request) == 0


def test_a_viewer_cannot_file_on_behalf_of_someone(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        org.file(actor=org.actor(org.val))
    assert count(org, Request) == 0


def test_incident_priority_follows_impact_and_urgency(org: Org) -> None:
    rid = org.file(
        type_key="generic.incident",
        fields={
            "summary": "Payroll is down",
            "description": "Nobody can run payroll",
            "impact": "high",
            "urgency": "high",
        },
    )
    request = org.spoc.requests.get(rid, Actor.system())
    assert request.priority is Priority.P1
    created = org.spoc.requests.timeline(rid, Actor.system())[0]
    assert created.data["priority_reason"] == "P1 by the Report something broken rules"


def test_agent_reply_to_a_new_request_takes_it_into_work(org: Org) -> None:
    rid = org.file()
    request = org.spoc.requests.post_message(rid, org.actor(org.dana), "On it.")
    assert request.status is Status.OPEN
    kinds = [e.kind for e in org.spoc.requests.timeline(rid, Actor.system())]
    assert kinds == ["created", "assigned", "message", "status_changed"]


def test_requester_reply_while_waiting_puts_it_back_in_progress(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Which invoice?")
    org.spoc.requests.transition(rid, Status.WAITING, dana)
    request = org.spoc.requests.post_message(rid, org.requester(rid), "INV-42")
    assert request.status is Status.OPEN


def test_requester_never_sees_internal_notes(org: Org) -> None:
    rid = org.file()
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Customer is VIP", internal=True)
    org.spoc.requests.post_message(rid, org.actor(org.dana), "Hello Maria")
    public = org.spoc.requests.timeline(rid, org.requester(rid))
    assert [e.kind for e in public] == ["created", "message", "status_changed"]
    assert public[1].message is not None
    assert public[1].message.body == "Hello Maria"


@pytest.mark.parametrize(
    ("who", "internal", "error"),
    [
        ("val", False, PermissionDenied),  # viewers only read
        ("kim", False, PermissionDenied),  # specialists answer the SPOC, not the requester
        ("requester", True, PermissionDenied),
    ],
)
def test_who_may_post_what(org: Org, who: str, internal: bool, error: type) -> None:
    rid = org.file()
    if who == "kim":
        org.spoc.escalations.escalate(
            rid, org.actor(org.dana), team_key="specialists", reason="needs a specialist"
        )
    actor = org.requester(rid) if who == "requester" else org.actor(getattr(org, who))
    before = snapshot(org, rid)
    messages = count(org, Message)
    with pytest.raises(error):
        org.spoc.requests.post_message(rid, actor, "hello", internal=internal)
    assert snapshot(org, rid) == before
    assert count(org, Message) == messages


def test_empty_message_and_message_on_closed_request_are_refused(org: Org) -> None:
    rid = org.file()
    with pytest.raises(ValidationFailed):
        org.spoc.requests.post_message(rid, org.actor(org.dana), "   ")
    org.spoc.requests.transition(rid, Status.CANCELLED, org.requester(rid))
    before = snapshot(org, rid)
    with pytest.raises(IllegalTransition, match="file a new request"):
        org.spoc.requests.post_message(rid, org.requester(rid), "still there?")
    assert snapshot(org, rid) == before


def test_another_requester_cannot_see_or_touch_the_request(org: Org) -> None:
    rid = org.file()
    other = org.file(requester={"name": "Eve", "email": "eve@example.com"})
    eve = org.requester(other)
    with pytest.raises(NotFoundError):
        org.spoc.requests.get(rid, eve)
    with pytest.raises(NotFoundError):
        org.spoc.requests.transition(rid, Status.CANCELLED, eve)
    assert org.spoc.requests.get(rid, Actor.system()).status is Status.NEW


def test_specialist_sees_only_requests_escalated_to_their_team(org: Org) -> None:
    rid = org.file()
    kim = org.actor(org.kim)
    with pytest.raises(NotFoundError):
        org.spoc.requests.get(rid, kim)
    org.spoc.escalations.escalate(rid, org.actor(org.dana), team_key="specialists", reason="why")
    assert org.spoc.requests.get(rid, kim).id == rid


def test_close_records_who_and_why(org: Org, clock: FrozenClock) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Done, see attached.")
    clock.advance(timedelta(hours=2))
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    request = org.spoc.requests.transition(rid, Status.CLOSED, org.requester(rid))
    assert request.closed_by == "Maria Anders"
    assert request.close_reason == "confirmed resolved by the requester"
    assert request.closed_at == clock.now()
    assert request.resolved_at == clock.now()


def test_reopen_clears_resolution(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Done.")
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    request = org.spoc.requests.post_message(rid, org.requester(rid), "It is not fixed")
    assert request.status is Status.OPEN
    assert request.resolved_at is None


def test_feedback_once_after_resolution(org: Org) -> None:
    rid = org.file()
    requester = org.requester(rid)
    with pytest.raises(IllegalTransition):
        org.spoc.requests.give_feedback(rid, requester, 5)
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Done.")
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    with pytest.raises(ValidationFailed):
        org.spoc.requests.give_feedback(rid, requester, 6)
    with pytest.raises(PermissionDenied):
        org.spoc.requests.give_feedback(rid, dana, 5)
    org.spoc.requests.give_feedback(rid, requester, 4, "Good")
    with pytest.raises(IllegalTransition, match="already been rated"):
        org.spoc.requests.give_feedback(rid, requester, 5)


def test_assign_and_priority_change_are_staff_only_and_audited(org: Org) -> None:
    rid = org.file()
    with pytest.raises(PermissionDenied):
        org.spoc.requests.assign(rid, org.actor(org.val), agent_id=org.sam.id)
    with pytest.raises(ValidationFailed):
        org.spoc.requests.assign(rid, org.actor(org.dana), agent_id=org.kim.id)
    request = org.spoc.requests.assign(rid, org.actor(org.dana), agent_id=org.sam.id)
    assert request.owner_agent_id == org.sam.id
    request = org.spoc.requests.change_priority(
        rid, org.actor(org.sam), Priority.P1, reason="whole office affected"
    )
    assert request.priority is Priority.P1
    with pytest.raises(ValidationFailed):
        org.spoc.requests.change_priority(rid, org.actor(org.sam), Priority.P2, reason=" ")


def test_stale_expected_version_is_a_conflict_and_changes_nothing(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Looking", expected_version=1)
    before = snapshot(org, rid)
    with pytest.raises(ConflictError) as caught:
        org.spoc.requests.transition(rid, Status.WAITING, dana, expected_version=1)
    assert caught.value.current_version == 2
    assert snapshot(org, rid) == before


def test_two_concurrent_updates_one_wins_the_other_conflicts(org: Org) -> None:
    """Both writers hold version 1; the second UPDATE finds the row moved on and is refused
    by the database itself (``UPDATE ... WHERE version = 1``), whatever the caller checked."""
    rid = org.file()
    db = org.spoc.db
    with db.reader() as one, db.reader() as two:
        a, b = one.get(Request, rid), two.get(Request, rid)
    assert a is not None
    assert b is not None
    assert a.version == b.version == 1
    with db.transaction() as first:
        first.add(a)
        a.status = Status.OPEN
    b.status = Status.CANCELLED

    def second_writer() -> None:
        with db.transaction() as second:
            second.add(b)

    with pytest.raises(StaleDataError, match="expected to update 1 row"):
        second_writer()
    request = org.spoc.requests.get(rid, Actor.system())
    assert (request.status, request.version) == (Status.OPEN, 2)


def test_concurrent_service_calls_from_threads_never_half_write(org: Org) -> None:
    """Many threads race to change one request at the same version: exactly one wins."""
    rid = org.file()
    actors = [org.actor(a) for a in (org.dana, org.lee, org.sam, org.ada)]
    barrier = threading.Barrier(len(actors))
    outcomes: list[str] = []

    def attempt(actor: Actor) -> None:
        barrier.wait()
        try:
            org.spoc.requests.post_message(
                rid, actor, f"reply from {actor.name}", expected_version=1
            )
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * (len(actors) - 1) + ["won"]
    assert count(org, Message) == 1
    kinds = [e.kind for e in org.spoc.requests.timeline(rid, Actor.system())]
    assert kinds == ["created", "assigned", "message", "status_changed"]
    assert org.spoc.requests.get(rid, Actor.system()).version == 2


def test_every_write_bumps_the_version_even_at_the_same_instant(org: Org) -> None:
    """The clock is frozen here: an internal note changes no column but still versions."""
    rid = org.file()
    org.spoc.escalations.escalate(rid, org.actor(org.dana), team_key="specialists", reason="x")
    note = org.spoc.requests.post_message(rid, org.actor(org.kim), "checked", internal=True)
    assert note.version == 3
    with pytest.raises(ConflictError):
        org.spoc.requests.post_message(rid, org.actor(org.dana), "late", expected_version=2)


def test_nul_characters_are_refused_naming_the_field(org: Org) -> None:
    with pytest.raises(ValidationFailed) as caught:
        org.file(fields={"summary": "bad\x00byte"})
    assert caught.value.errors == {"fields.summary": "contains a NUL character"}
    with pytest.raises(ValidationFailed):
        org.file(requester={"name": "Eve\x00", "email": "eve@example.com"})
    rid = org.file()
    with pytest.raises(ValidationFailed):
        org.spoc.requests.post_message(rid, org.actor(org.dana), "x\x00y")
    assert count(org, Request) == 1


def test_request_and_tracking_link_are_created_together_or_not_at_all(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    request, token = org.spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Together"},
        requester={"name": "Maria", "email": "maria@example.com"},
    )
    assert org.spoc.links.request_for_tracking_token(token) == request.id

    def broken(*args: object) -> str:
        raise RuntimeError("disk full while issuing the token")

    monkeypatch.setattr("spoc.core.domain.requests.intake.add_tracking_token", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        org.spoc.requests.create_with_tracking_link(
            type_key="generic.question",
            fields={"summary": "Never half-made"},
            requester={"name": "Maria", "email": "maria@example.com"},
        )
    assert count(org, Request) == 1


def test_write_observers_run_inside_the_transaction_and_keep_one_version_step(
    org: Org,
) -> None:
    """Observers (SLA clocks, the outbox) commit or roll back with their cause."""
    from spoc.core.domain.writes import WriteContext

    seen: list[tuple[str, ...]] = []

    def observer(write: WriteContext) -> None:
        seen.append(tuple(e.kind for e in write.events))
        write.request.summary = write.request.summary[:150]  # a change to the row itself
        if any(e.message is not None and e.message.body == "boom" for e in write.events):
            raise RuntimeError("observer refuses")

    from dataclasses import replace

    service = org.spoc.requests
    before = service.deps
    service.deps = replace(before, observers=(*before.observers, observer))
    try:
        rid = org.file()
        assert org.spoc.requests.get(rid, Actor.system()).version == 1
        org.spoc.requests.post_message(rid, org.actor(org.dana), "Hello")
        assert org.spoc.requests.get(rid, Actor.system()).version == 2
        assert seen == [("created", "assigned"), ("message", "status_changed")]
        # An observer that fails takes its cause down with it: nothing is written.
        with pytest.raises(RuntimeError, match="observer refuses"):
            org.spoc.requests.post_message(rid, org.actor(org.dana), "boom")
        assert org.spoc.requests.get(rid, Actor.system()).version == 2
        assert count(org, Message) == 1
    finally:
        service.deps = before


def test_the_system_answers_at_once_and_resolves_like_staff(org: Org) -> None:
    """A plugin that knows the answer (a shipment's tracking) replies as the system: the
    requester is mailed, the first-response clock is met, and the request is resolved."""
    from spoc.core.domain.models import OutboxMessage, SlaClock

    rid = org.file()
    system = Actor.system("tracking")
    org.spoc.requests.post_message(rid, system, "Your parcel arrives tomorrow before noon.")
    org.spoc.requests.transition(rid, Status.RESOLVED, system, reason="answered from tracking")
    found = org.spoc.requests.get(rid, Actor.system())
    assert found.status is Status.RESOLVED
    with org.spoc.db.reader() as session:
        first = session.scalar(
            select(SlaClock).where(SlaClock.request_id == rid, SlaClock.kind == "first_response")
        )
        assert first is not None and first.state == "met"
        mails = list(
            session.scalars(
                select(OutboxMessage.body_text).where(
                    OutboxMessage.recipient == "maria@example.com"
                )
            )
        )
    assert any("arrives tomorrow" in body for body in mails)
    with pytest.raises(IllegalTransition):
        org.spoc.requests.transition(rid, Status.CANCELLED, system)
