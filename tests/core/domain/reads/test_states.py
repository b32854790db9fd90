"""The plugins' read of request state: ``spoc.request_states``, ``spoc.open_requests_for`` and
``spoc.request_matches`` answer what plugins used to join the core's tables for, in one
indexed query each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from spoc import (
    FrozenClock,
    Priority,
    Request,
    RequestState,
    Status,
    ValidationFailed,
    open_requests_for,
    request_matches,
    request_states,
)
from spoc.core.domain.models import SlaClock
from tests.conftest import Org


@contextmanager
def counted(org: Org) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            statements.append(str(args[2]))

    event.listen(org.spoc.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(org.spoc.db.engine, "before_cursor_execute", count)


def _resolve(org: Org, rid: int) -> None:
    dana = org.actor(org.dana)
    org.spoc.requests.transition(rid, Status.OPEN, dana)
    org.spoc.requests.transition(rid, Status.RESOLVED, dana)


def test_request_states_gives_each_existing_request_in_one_query(org: Org) -> None:
    first, second = org.file(), org.file(fields={"summary": "Second"})
    org.spoc.escalations.escalate(
        second, org.actor(org.dana), team_key="specialists", reason="billing engine"
    )
    with counted(org) as statements, org.spoc.db.reader() as session:
        states = request_states(session, [second, first, 999_999, first])
    assert len(statements) == 1
    assert set(states) == {first, second}
    state = states[second]
    assert (state.type_key, state.summary, state.status) == (
        "generic.question",
        "Second",
        Status.NEW,
    )
    assert state.priority is Priority.P4 and state.subject_id == org.account.id
    assert state.owner_agent_id == org.dana.id and state.escalation_level == 1
    assert state.is_escalated and state.is_unresolved and not state.is_final
    assert not states[first].is_escalated


def test_request_states_reads_many_ids_in_batches(org: Org) -> None:
    rid = org.file()
    with counted(org) as statements, org.spoc.db.reader() as session:
        states = request_states(session, [rid, *range(10_000, 11_200)])
    assert list(states) == [rid]
    assert len(statements) == 3  # 1201 ids, 500 a query
    with org.spoc.db.reader() as session:
        assert request_states(session, []) == {}


def test_request_states_works_inside_a_write_on_its_session(org: Org) -> None:
    rid = org.file()
    seen: dict[int, RequestState] = {}

    def apply(session: Session, request: Request) -> None:
        seen.update(request_states(session, [request.id]))

    org.spoc.requests.record_event(
        rid, org.actor(org.dana), kind="test.looked", summary="Looked", apply=apply
    )
    assert seen[rid].status is Status.NEW


def test_open_requests_for_a_subject_newest_change_first(org: Org, clock: FrozenClock) -> None:
    older = org.file()
    clock.advance(timedelta(minutes=5))
    newer = org.file()
    clock.advance(timedelta(minutes=5))
    done = org.file()
    cancelled = org.file()
    _resolve(org, done)
    org.spoc.requests.transition(cancelled, Status.CANCELLED, org.actor(org.dana))
    elsewhere = org.spoc.directory.add_subject(
        kind="generic.account", name="Contoso", spoc_agent_id=org.lee.id
    )
    org.file(subject_id=elsewhere.id)
    with counted(org) as statements, org.spoc.db.reader() as session:
        found = open_requests_for(session, org.account.id)
        unresolved = open_requests_for(session, [org.account.id], status=Status.unresolved())
        both = open_requests_for(session, {org.account.id, elsewhere.id}, limit=2)
    assert len(statements) == 3
    # Resolved still counts (it may reopen); cancelled does not.
    assert [s.id for s in found] == [done, newer, older]
    assert [s.id for s in unresolved] == [newer, older]
    assert len(both) == 2


def test_open_requests_for_narrows_by_escalation_and_type(org: Org) -> None:
    plain, escalated = org.file(), org.file()
    org.spoc.escalations.escalate(
        escalated, org.actor(org.dana), team_key="specialists", reason="billing engine"
    )
    with org.spoc.db.reader() as session:
        assert [s.id for s in open_requests_for(session, org.account.id, escalated=True)] == [
            escalated
        ]
        assert [s.id for s in open_requests_for(session, org.account.id, escalated=False)] == [
            plain
        ]
        assert open_requests_for(session, org.account.id, type_key="other.kind") == []
        assert len(open_requests_for(session, org.account.id, type_key={"generic.question"})) == 2
        assert open_requests_for(session, []) == []


def test_open_requests_for_refuses_a_limit_out_of_range(org: Org) -> None:
    with org.spoc.db.reader() as session, pytest.raises(ValidationFailed) as refused:
        open_requests_for(session, org.account.id, limit=0)
    assert "limit" in refused.value.errors


def test_request_matches_filters_a_plugins_own_rows_in_one_statement(org: Org) -> None:
    # Any table with a request_id column stands for a plugin's: here, the SLA clocks.
    live, done, escalated = org.file(), org.file(), org.file()
    _resolve(org, done)
    org.spoc.escalations.escalate(
        escalated, org.actor(org.dana), team_key="specialists", reason="billing engine"
    )

    def requests_where(condition: Callable[[object], object]) -> set[int]:
        with org.spoc.db.reader() as session:
            query = select(SlaClock.request_id).where(condition(SlaClock.request_id))  # type: ignore[arg-type]
            return set(session.scalars(query.distinct()))

    unresolved = Status.unresolved()
    assert requests_where(lambda c: request_matches(c, status=unresolved)) == {live, escalated}
    assert requests_where(lambda c: ~request_matches(c, status=unresolved)) == {done}
    assert requests_where(lambda c: request_matches(c, status=Status.RESOLVED)) == {done}
    assert requests_where(lambda c: request_matches(c, escalated=True)) == {escalated}
    assert requests_where(
        lambda c: request_matches(c, escalated=False, type_key="generic.question")
    ) == {live, done}
