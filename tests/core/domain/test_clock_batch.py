"""The sweep's clock work written set-based: the same rows as one request at a time, in a few
statements per batch, exactly once with two sweepers, a failing request retried alone."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select, update

from spoc import BusinessHours, FrozenClock, Status
from spoc.core.domain.models import (
    Escalation,
    EscalationFact,
    EscalationTrigger,
    OutboxMessage,
    Request,
    RequestFact,
    SlaClock,
    SlaClockEvent,
    Team,
    TimelineEvent,
)
from spoc.core.domain.sweep import Sweeper, SweepReport
from spoc.core.services import Spoc, spoc_of
from tests.conftest import AppFactory, Org, build_org

H = timedelta(hours=1)
INCIDENT = {"summary": "Mail down", "description": "x", "impact": "high", "urgency": "high"}


def file_cases(org: Org) -> list[int]:
    """One request of each kind the sweep meets: a P1 whose first response and resolution are
    both breached (escalates to the specialists, who assign by round-robin, watched by Lee), a
    P3 whose first response warns and breaches, and one whose escalation went unanswered (to
    the authority), and a resolved one whose ``next_due_at`` says it is due when none of its
    clocks is (only ``next_due_at`` moves, and the version with it)."""
    dana = org.actor(org.dana)
    p1 = org.file(type_key="generic.incident", fields=INCIDENT)
    org.spoc.requests.watch(p1, org.actor(org.lee))
    p3 = org.file()
    unanswered = org.file()
    org.spoc.escalations.escalate(
        unanswered, dana, team_key="specialists", reason="billing", answer_within=BusinessHours(2)
    )
    stale = org.file()
    org.spoc.requests.post_message(stale, dana, "Done")
    org.spoc.requests.transition(stale, Status.RESOLVED, dana)
    with org.spoc.db.transaction() as session:
        session.execute(
            update(Request).where(Request.id == stale).values(next_due_at=org.spoc.clock.now())
        )
    return [p1, p3, unanswered, stale]


def written(spoc: Spoc, request_id: int) -> dict[str, Any]:
    """Everything a sweep writes about a request, with its ids and reference taken out."""
    reference = spoc.requests.reference(request_id)

    def plain(text: str) -> str:
        text = text.replace(reference, "REF").replace(f"/requests/{request_id}", "/requests/ID")
        text = re.sub(rf"req-{request_id}@", "req-ID@", text)  # the thread's root
        text = re.sub(rf"spoc\+{request_id}-[a-z0-9]+@", "spoc+ID@", text)  # its reply address
        text = re.sub(r"/rate/[^?\s\"]+", "/rate/TOKEN", text)  # the resolved mail's rating link
        return re.sub(r"ntf-[0-9a-f]{32}", "KEY", text)

    with spoc.db.reader() as session:
        request = session.get(Request, request_id)
        assert request is not None
        escalation_ids = list(
            session.scalars(
                select(Escalation.id)
                .where(Escalation.request_id == request_id)
                .order_by(Escalation.id)
            )
        )
        level_of = {e: f"escalation {n}" for n, e in enumerate(escalation_ids)}

        def trigger(name: str) -> str:  # an escalation's own OLA trigger names it by id
            ola = re.fullmatch(r"sla:ola:(\d+)", name)
            return f"sla:ola:{level_of.get(int(ola[1]))}" if ola else name

        def data(values: dict[str, Any]) -> dict[str, Any]:
            out = dict(values)
            if "escalation_id" in out:
                out["escalation_id"] = level_of.get(out["escalation_id"])
            if "trigger" in out:
                out["trigger"] = trigger(out["trigger"])
            return out

        def webhook(body: str) -> dict[str, Any]:
            payload = json.loads(body)
            payload["request"].pop("id")
            payload["data"] = data(payload["data"])
            return payload  # type: ignore[no-any-return]

        clocks = list(
            session.scalars(
                select(SlaClock).where(SlaClock.request_id == request_id).order_by(SlaClock.id)
            )
        )
        clock_kind = {c.id: c.kind for c in clocks}
        facts = session.get(RequestFact, request_id)
        return {
            "request": (
                request.version,
                request.escalation_level,
                request.next_due_at,
                request.deadline_at,
                request.updated_at,
            ),
            "timeline": [
                (e.seq, e.kind, e.visibility, e.actor_kind, e.actor_name, e.summary, data(e.data))
                for e in session.scalars(
                    select(TimelineEvent)
                    .where(TimelineEvent.request_id == request_id)
                    .order_by(TimelineEvent.seq)
                )
            ],
            "clocks": [
                (
                    c.kind,
                    level_of.get(c.escalation_id),
                    c.state,
                    c.warned_at,
                    c.breached_at,
                    c.due_at,
                    c.warn_at,
                    c.target_seconds,
                )
                for c in clocks
            ],
            "clock events": [
                (clock_kind[e.clock_id], e.kind, e.at, e.reason, e.due_at)
                for e in session.scalars(
                    select(SlaClockEvent)
                    .where(SlaClockEvent.clock_id.in_(list(clock_kind)))
                    .order_by(SlaClockEvent.id)
                )
            ],
            "escalations": [
                (e.level, e.to_team_id, e.to_agent_id, e.reason, trigger(e.trigger), e.opened_at)
                for e in session.scalars(
                    select(Escalation)
                    .where(Escalation.request_id == request_id)
                    .order_by(Escalation.id)
                )
            ],
            "triggers": sorted(
                trigger(t)
                for t in session.scalars(
                    select(EscalationTrigger.trigger).where(
                        EscalationTrigger.request_id == request_id
                    )
                )
            ),
            "outbox": sorted(
                (
                    m.channel,
                    m.recipient,
                    plain(m.subject),
                    json.dumps(webhook(m.body_text), sort_keys=True)
                    if m.channel == "webhook"
                    else plain(m.body_text),
                    plain(m.body_html or ""),
                    plain(json.dumps(m.headers, sort_keys=True)),
                )
                for m in session.scalars(
                    select(OutboxMessage).where(OutboxMessage.request_id == request_id)
                )
            ),
            "request facts": {
                k: v for k, v in vars(facts).items() if not k.startswith("_") and k != "request_id"
            }
            if facts is not None
            else None,
            "escalation facts": [
                (f.level, f.team_id, trigger(f.trigger), f.opened_at, f.ola_target, f.ola_breached)
                for f in session.scalars(
                    select(EscalationFact)
                    .where(EscalationFact.request_id == request_id)
                    .order_by(EscalationFact.escalation_id)
                )
            ],
        }


def test_the_set_based_batch_writes_what_one_request_at_a_time_writes(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    app = make_app(webhook_urls=["https://hooks.example.org/spoc"], webhook_secret="s" * 32)
    spoc = spoc_of(app)
    org = build_org(spoc)
    spoc.assignment.set_rule(org.actor(org.ada), org.specialists.id, "round_robin")
    batch, alone = file_cases(org), file_cases(org)
    clock.advance(5 * H)
    now = clock.now()
    together, apart = SweepReport(), SweepReport()
    spoc.sweeper().handle_due(batch, now, together)
    Sweeper(
        spoc.db,
        spoc.settings,
        spoc.clock,
        spoc.hooks,
        spoc.requests,
        spoc.escalations,
        spoc.sla,
        spoc.host.request_types,
        spoc.cover,
        set_based=False,
    ).handle_due(alone, now, apart)
    assert together.escalated == 2 and together.warned and together.breached
    assert str(together) == str(apart) and not together.errors
    for mine, theirs in zip(batch, alone, strict=True):
        mine_written, theirs_written = written(spoc, mine), written(spoc, theirs)
        for part in mine_written:
            assert mine_written[part] == theirs_written[part], part
    p1 = written(spoc, batch[0])
    kinds = [row[1] for row in p1["timeline"]]
    assert kinds[-5:] == ["clock", "clock", "clock", "escalated", "escalation_assigned"]
    assert {row[1] for row in p1["outbox"]} >= {"dana@example.org", "kim@example.org"}
    assert p1["request facts"]["escalations"] == 1
    stale = written(spoc, batch[3])
    assert stale["request"][0] == 4 and stale["request"][2] > now  # filed, reply, resolved, swept


def test_a_batch_of_breaches_takes_a_few_statements_whatever_its_size(
    org: Org, clock: FrozenClock
) -> None:
    for n in range(30):
        org.file(type_key="generic.incident", fields={**INCIDENT, "summary": f"Down {n}"})
    clock.advance(5 * H)
    writes: list[str] = []

    def seen(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if statement.split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "COPY"):
            writes.append(statement.split()[0].upper() + " " + statement.split()[2])

    event.listen(org.spoc.db.engine, "before_cursor_execute", seen)
    try:
        report = org.spoc.sweep()
    finally:
        event.remove(org.spoc.db.engine, "before_cursor_execute", seen)
    assert report.escalated == 30 and not report.errors
    # One statement per table (COPY goes by the driver's own cursor on PostgreSQL, unseen
    # here), one UPDATE for the requests and one per changed clock column: not one per request.
    assert len(writes) <= 16, writes
    with org.spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 30
        breaches = session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.kind == "clock", TimelineEvent.summary.like("%overdue%"))
        )
    assert breaches == 60  # first response and resolution of each


def test_a_request_failing_in_a_set_based_batch_is_retried_alone_and_the_others_commit(
    org: Org, clock: FrozenClock
) -> None:
    """A request whose history cannot be folded into report facts (an escalation recorded
    with a level that is no number) fails wherever it is written: alone, it fails again, is
    reported and stays due; the rest of its batch is escalated all the same."""
    dana = org.actor(org.dana)
    ids = [
        org.file(type_key="generic.incident", fields={**INCIDENT, "summary": f"Down {n}"})
        for n in range(4)
    ]
    broken = ids[1]
    org.spoc.escalations.escalate(broken, dana, team_key="desk", reason="first look")
    with org.spoc.db.transaction() as session:
        session.execute(
            update(TimelineEvent)
            .where(TimelineEvent.request_id == broken, TimelineEvent.kind == "escalated")
            .values(data={"escalation_id": 1, "level": "one", "to_team_id": org.desk.id})
        )
    clock.advance(5 * H)
    report = org.spoc.sweep()
    assert report.escalated == 3
    assert report.errors == [
        f"request {broken}: ValueError: invalid literal for int() with base 10: 'one'"
    ]
    with org.spoc.db.reader() as session:
        escalated = dict(
            session.execute(
                select(Escalation.request_id, func.count())
                .where(Escalation.trigger == "sla:resolution")
                .group_by(Escalation.request_id)
            ).all()
        )
        due = session.scalar(select(Request.next_due_at).where(Request.id == broken))
    assert escalated == {rid: 1 for rid in ids if rid != broken}
    assert due is not None and due <= clock.now()  # left as it was, due again


def test_two_set_based_sweeps_at_once_write_each_row_once(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    """Timeline, clock log and notices too, not only the escalation rows."""
    first, second = make_app(), make_app()
    org = build_org(spoc_of(first))
    ids = [
        org.file(type_key="generic.incident", fields={**INCIDENT, "summary": f"Down {n}"})
        for n in range(250)  # more than one batch of 200
    ]
    clock.advance(5 * H)
    barrier = threading.Barrier(2)
    reports: list[SweepReport] = []

    def sweep(app: object) -> None:
        barrier.wait()
        reports.append(spoc_of(app).sweep(limit=1000))  # type: ignore[arg-type]

    threads = [threading.Thread(target=sweep, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with org.spoc.db.reader() as session:

        def per_request(*where: Any) -> set[int]:
            counts = session.execute(
                select(func.count())
                .select_from(TimelineEvent)
                .where(TimelineEvent.request_id.in_(ids), *where)
                .group_by(TimelineEvent.request_id)
            ).scalars()
            return set(counts)

        escalated = per_request(TimelineEvent.kind == "escalated")
        breached = per_request(TimelineEvent.summary.like("%overdue%"))
        mails = set(
            session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.request_id.in_(ids), OutboxMessage.recipient == "kim@example.org"
                )
                .group_by(OutboxMessage.request_id)
            ).scalars()
        )
        facts = session.scalar(
            select(func.sum(RequestFact.escalations)).where(RequestFact.request_id.in_(ids))
        )
        teams = session.scalar(
            select(func.count()).select_from(Team).where(Team.key == "specialists")
        )
    assert sum(r.escalated for r in reports) == 250 and not any(r.errors for r in reports)
    assert escalated == {1} and breached == {2} and mails == {1}
    assert facts == 250 and teams == 1
