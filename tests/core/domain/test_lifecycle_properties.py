"""Property-based: random sequences of lifecycle actions by random actors never reach an
illegal status, refusals change nothing, and replaying the timeline gives the current state."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from spoc import Actor, Priority, ServiceError, Status
from spoc.core.domain.lifecycle import find_transition
from spoc.core.domain.timeline import replay
from tests.conftest import Org

ACTORS = ("dana", "lee", "sam", "kim", "val", "ada", "requester", "system")


def run_machine(org: Org) -> None:
    class Lifecycle(RuleBasedStateMachine):
        """Every step either succeeds, moving the version by one, or is refused with a
        ServiceError and leaves the request exactly as it was."""

        def __init__(self) -> None:
            super().__init__()
            self.rid = 0
            self.writes = 0

        def actor(self, who: str) -> Actor:
            if who == "requester":
                return org.requester(self.rid)
            if who == "system":
                return Actor.system()
            return org.actor(getattr(org, who))

        def snapshot(self) -> tuple[Any, ...]:
            request = org.spoc.requests.get(self.rid, Actor.system())
            events = org.spoc.requests.timeline(self.rid, Actor.system())
            return (
                request.version,
                request.status,
                request.priority,
                request.owner_agent_id,
                request.owner_team_id,
                request.escalation_level,
                len(events),
            )

        def attempt(self, action: Any) -> None:
            before = self.snapshot()
            try:
                action()
            except ServiceError:
                assert self.snapshot() == before, "a refused action changed the request"
                return
            self.writes += 1
            assert self.snapshot()[0] == before[0] + 1, "a write must move the version by one"

        @initialize(urgent=st.booleans())
        def file(self, urgent: bool) -> None:
            fields = {"summary": "Everything is down" if urgent else "Where is my invoice?"}
            self.rid = org.file(fields=fields)
            self.writes = 0

        @rule(who=st.sampled_from(ACTORS), to_status=st.sampled_from(list(Status)))
        def transition(self, who: str, to_status: Status) -> None:
            self.attempt(lambda: org.spoc.requests.transition(self.rid, to_status, self.actor(who)))

        @rule(
            who=st.sampled_from(ACTORS),
            internal=st.booleans(),
            body=st.sampled_from(["ok", " ", "x" * 3]),
        )
        def message(self, who: str, internal: bool, body: str) -> None:
            self.attempt(
                lambda: org.spoc.requests.post_message(
                    self.rid, self.actor(who), body, internal=internal
                )
            )

        @rule(who=st.sampled_from(ACTORS), to=st.sampled_from(("dana", "lee", "sam", "kim")))
        def assign(self, who: str, to: str) -> None:
            agent_id = getattr(org, to).id
            self.attempt(
                lambda: org.spoc.requests.assign(self.rid, self.actor(who), agent_id=agent_id)
            )

        @rule(who=st.sampled_from(ACTORS), priority=st.sampled_from(list(Priority)))
        def reprioritise(self, who: str, priority: Priority) -> None:
            self.attempt(
                lambda: org.spoc.requests.change_priority(
                    self.rid, self.actor(who), priority, reason="triage"
                )
            )

        @rule(who=st.sampled_from(ACTORS), team=st.sampled_from(("specialists", "desk", "nope")))
        def escalate(self, who: str, team: str) -> None:
            self.attempt(
                lambda: org.spoc.escalations.escalate(
                    self.rid, self.actor(who), team_key=team, reason="help"
                )
            )

        @rule(who=st.sampled_from(ACTORS))
        def hand_back(self, who: str) -> None:
            self.attempt(lambda: org.spoc.escalations.hand_back(self.rid, self.actor(who)))

        @rule(rating=st.integers(min_value=0, max_value=6))
        def rate(self, rating: int) -> None:
            self.attempt(
                lambda: org.spoc.requests.give_feedback(self.rid, self.actor("requester"), rating)
            )

        @rule(stale=st.integers(min_value=-2, max_value=-1))
        def stale_write(self, stale: int) -> None:
            version = org.spoc.requests.get(self.rid, Actor.system()).version + stale
            self.attempt(
                lambda: org.spoc.requests.post_message(
                    self.rid, self.actor("dana"), "late", expected_version=version
                )
            )

        @invariant()
        def timeline_replays_to_the_current_state(self) -> None:
            if not self.rid:
                return
            request = org.spoc.requests.get(self.rid, Actor.system())
            events = org.spoc.requests.timeline(self.rid, Actor.system())
            state = replay(events)
            assert (
                state.status,
                state.priority,
                state.owner_agent_id,
                state.owner_team_id,
                state.subject_id,
                state.escalation_level,
            ) == (
                request.status,
                request.priority,
                request.owner_agent_id,
                request.owner_team_id,
                request.subject_id,
                request.escalation_level,
            )
            assert request.version == self.writes + 1

        @invariant()
        def only_legal_transitions_and_final_is_final(self) -> None:
            if not self.rid:
                return
            changes = [
                e.data
                for e in org.spoc.requests.timeline(self.rid, Actor.system())
                if e.kind == "status_changed"
            ]
            current = Status.NEW
            for change in changes:
                source, target = Status(change["from"]), Status(change["to"])
                assert source is current
                assert not source.is_final, f"left final status {source}"
                assert find_transition(source, target) is not None, f"{source} -> {target}"
                current = target

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_random_lifecycle_sequences_stay_legal_and_replayable(org: Org) -> None:
    run_machine(org)
