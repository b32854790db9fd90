"""``spoc.requests.detail``: one request as each kind of reader may see it, with the access
rules applied once — a request the reader may not see is not found, a staff read is reported
to ``spoc_staff_access`` and may need a break-glass reason."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest
from sqlalchemy import event, select

from spoc import (
    AccessReasonRequired,
    Actor,
    BusinessHours,
    ClockKind,
    ClockState,
    NotFoundError,
    RequestDetail,
    Status,
    ValidationFailed,
)
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry, Visibility
from spoc.core.platform.plugins import ENTRY_POINT_GROUP, installed_entry_points
from spoc.core.services import spoc_of
from tests.conftest import AppFactory, Org, build_org
from tests.core.fake_plugins import records

REASON = "covering the desk while Dana is out"


def _worked_on(org: Org) -> int:
    """A request on Dana's account: a public reply, an internal note, an escalation to the
    specialists with an answer time."""
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(rid, dana, "Looking into it")
    org.spoc.requests.post_message(rid, dana, "Customer is on the old plan", internal=True)
    org.spoc.escalations.escalate(
        rid, dana, team_key="specialists", reason="billing engine", answer_within=BusinessHours(4)
    )
    return rid


def _detail(org: Org, rid: int, reader: Actor, **kw: object) -> RequestDetail:
    return org.spoc.requests.detail(rid, reader, channel="console", **kw)  # type: ignore[arg-type]


def test_the_requester_sees_their_own_request_and_only_its_public_side(org: Org) -> None:
    rid = _worked_on(org)
    detail = _detail(org, rid, org.requester(rid))
    assert detail.reference == f"REQ-{rid:05d}"
    assert detail.fields == {"summary": "Where is my invoice?", "details": ""}
    assert [e.kind for e in detail.timeline] == ["created", "message", "status_changed"]
    assert all(e.visibility is Visibility.PUBLIC for e in detail.timeline)
    assert "Customer is on the old plan" not in {e.message for e in detail.timeline}
    assert detail.timeline[0].actor_name == "you"  # not the name stored for the address
    assert detail.timeline[1].author == "Dana Reyes"
    # Nothing about the record they filed under, who is on it, or why it was escalated.
    assert detail.subject is None and detail.subject_id == org.account.id
    assert detail.requester is None and detail.escalations == ()
    assert detail.point_of_contact.name == "Dana Reyes"
    assert {c.kind for c in detail.clocks} == {ClockKind.RESOLUTION}  # first response met
    assert all(c.explanation is None for c in detail.clocks)
    assert detail.expected_answer is not None
    assert detail.expected_answer.kind is ClockKind.RESOLUTION
    assert detail.status_label == "In progress"
    assert detail.may.reply and detail.may.cancel
    assert not (detail.may.note or detail.may.manage or detail.may.hand_back or detail.may.rate)


def test_another_requester_finds_nothing(org: Org) -> None:
    rid = _worked_on(org)
    stranger = Actor.requester(org.requester(rid).id + 1000, "Someone")  # type: ignore[operator]
    with pytest.raises(NotFoundError):
        _detail(org, rid, stranger)


def test_the_spoc_sees_everything_and_may_act(org: Org) -> None:
    rid = _worked_on(org)
    detail = _detail(org, rid, org.actor(org.dana))
    assert "Customer is on the old plan" in {e.message for e in detail.timeline}
    assert detail.timeline[0].actor_name == "Maria Anders"
    assert detail.requester is not None and detail.requester.email == "maria@example.com"
    assert detail.subject is not None and detail.subject.name == "Northwind Traders"
    assert [(p.role, p.name) for p in detail.subject.people] == [
        ("SPOC", "Dana Reyes"),
        ("Deputy 1", "Lee Chen"),
        ("Deputy 2", "Sam Patel"),
    ]
    assert detail.owner is not None and detail.owner.name == "Dana Reyes"
    assert [(e.level, e.team_name, e.reason) for e in detail.escalations] == [
        (1, "Specialist support", "billing engine")
    ]
    assert detail.open_escalation == detail.escalations[0]
    clocks = {c.kind: c for c in detail.clocks}
    assert set(clocks) == {ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION, ClockKind.ESCALATION}
    assert clocks[ClockKind.FIRST_RESPONSE].state is ClockState.MET
    assert clocks[ClockKind.RESOLUTION].state is ClockState.RUNNING
    explanation = clocks[ClockKind.FIRST_RESPONSE].explanation or ""
    assert explanation.startswith("First response: started")
    may = detail.may
    assert may.reply and may.note and may.manage and may.escalate
    assert not may.hand_back  # offered to the team it was escalated to, not to the SPOC
    assert may.statuses == (Status.WAITING, Status.RESOLVED, Status.CANCELLED)
    assert not (may.cancel or may.confirm or may.rate)


def test_a_specialist_sees_only_what_was_escalated_to_their_team(org: Org) -> None:
    rid = org.file()
    kim = org.actor(org.kim)
    with pytest.raises(NotFoundError):
        _detail(org, rid, kim)
    org.spoc.escalations.escalate(
        rid, org.actor(org.dana), team_key="specialists", reason="billing engine"
    )
    detail = _detail(org, rid, kim)
    assert detail.escalations[0].team_name == "Specialist support"
    # They add notes for the SPOC and hand back; the SPOC answers the requester.
    assert detail.may.note and detail.may.hand_back
    assert not (detail.may.reply or detail.may.manage or detail.may.statuses)


def test_an_admin_sees_everything_and_may_act(org: Org) -> None:
    rid = _worked_on(org)
    detail = _detail(org, rid, org.actor(org.ada))
    assert len(detail.timeline) == len(_detail(org, rid, org.actor(org.dana)).timeline)
    assert detail.requester is not None and detail.subject is not None
    assert detail.may.manage and detail.may.reply and detail.may.statuses


def test_a_viewer_reads_everything_and_may_do_nothing(org: Org) -> None:
    rid = _worked_on(org)
    detail = _detail(org, rid, org.actor(org.val))
    assert any(e.visibility is Visibility.INTERNAL for e in detail.timeline)
    assert detail.requester is not None and detail.escalations
    may = detail.may
    assert not (may.reply or may.note or may.manage or may.escalate or may.hand_back)
    assert may.statuses == ()


def test_the_point_of_contact_says_who_covers_for_an_absent_spoc(org: Org) -> None:
    today = org.spoc.requests.today()
    org.spoc.directory.add_absence(org.dana.id, today, today + timedelta(days=7))
    rid = org.file()
    contact = _detail(org, rid, org.requester(rid)).point_of_contact
    assert contact.name == "Lee Chen"
    assert contact.covering is not None
    assert contact.covering.startswith("Lee Chen covers for Dana Reyes until")


def test_the_requester_may_confirm_reopen_and_rate_a_resolved_request(org: Org) -> None:
    rid = org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.transition(rid, Status.OPEN, dana)
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)
    requester = org.requester(rid)
    may = _detail(org, rid, requester).may
    assert may.confirm and may.reopen and may.rate and not may.cancel
    org.spoc.requests.give_feedback(rid, requester, 4)
    detail = _detail(org, rid, requester)
    assert detail.rating == 4 and not detail.may.rate


def test_the_detail_costs_the_same_queries_however_long_the_timeline(org: Org) -> None:
    short, long = org.file(), org.file()
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(short, dana, "one note", internal=True)
    for n in range(20):
        org.spoc.requests.post_message(long, dana, f"note {n}", internal=n % 2 == 0)

    def queries(rid: int) -> int:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        engine = org.spoc.db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            _detail(org, rid, dana)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    assert queries(long) == queries(short) <= 20


# --- with a plugin that guards records (spoc_staff_access) -----------------------------------


@pytest.fixture
def guarded(make_app: AppFactory) -> Org:
    records.READS.clear()
    fake = EntryPoint("records", "tests.core.fake_plugins.records", ENTRY_POINT_GROUP)
    app = make_app(
        plugins=["generic", "records"], plugin_entry_points=[*installed_entry_points(), fake]
    )
    return build_org(spoc_of(app))


def test_the_read_is_reported_once_and_a_stranger_needs_a_reason(guarded: Org) -> None:
    org = guarded
    rid = org.file()
    detail = _detail(org, rid, org.actor(org.dana))  # the owner: their own record
    assert detail.id == rid
    assert [(r.what, r.channel, r.own) for r in records.READS] == [("request", "console", True)]
    for outsider in (org.val, org.ada):
        with pytest.raises(AccessReasonRequired):
            _detail(org, rid, org.actor(outsider))
    records.READS.clear()
    detail = org.spoc.requests.detail(
        rid, org.actor(org.val), channel="api", what="timeline", reason=REASON
    )
    assert detail.requester is not None
    assert [(r.what, r.channel, r.own, r.reason) for r in records.READS] == [
        ("timeline", "api", False, REASON)
    ]
    with org.spoc.db.reader() as session:
        audited = list(
            session.scalars(
                select(AdminAuditEntry.summary).where(
                    AdminAuditEntry.action == AuditAction.BREAK_GLASS
                )
            )
        )
    assert audited == [f"Break-glass on request {rid}: {REASON}"]


def test_a_request_the_reader_may_not_see_is_not_reported(guarded: Org) -> None:
    org = guarded
    rid = org.file()
    with pytest.raises(NotFoundError):
        _detail(org, rid, org.actor(org.kim))
    assert records.READS == []


def test_a_too_short_reason_is_refused_naming_the_field(guarded: Org) -> None:
    org = guarded
    rid = org.file()
    with pytest.raises(ValidationFailed) as refused:
        _detail(org, rid, org.actor(org.val), reason="why", reason_field="SPOC-Access-Reason")
    assert "SPOC-Access-Reason" in refused.value.errors
    assert records.READS == []


def test_requesters_are_not_reported_to_the_staff_access_hook(guarded: Org) -> None:
    org = guarded
    rid = org.file()
    assert _detail(org, rid, org.requester(rid)).fields["summary"] == "Where is my invoice?"
    assert records.READS == []
