"""Merge, parent and child, related links; CCs and watchers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from spoc import Actor, Status
from spoc.core.domain.models import OutboxMessage, RequestCc
from spoc.core.kernel.errors import IllegalTransition, PermissionDenied
from tests.conftest import Org


def mails(org: Org, to: str) -> list[OutboxMessage]:
    with org.spoc.db.reader() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == to, OutboxMessage.channel == "email")
                .order_by(OutboxMessage.id)
            )
        )


def test_a_merged_duplicate_is_cancelled_once_and_its_requester_told_once(org: Org) -> None:
    dana = org.actor(org.dana)
    survivor = org.file()
    duplicate = org.file(
        fields={"summary": "Invoice missing again"},
        requester={"name": "Tom Bright", "email": "tom@example.com"},
    )
    before = len(mails(org, "tom@example.com"))
    org.spoc.requests.merge(duplicate, survivor, dana, reason="same invoice")
    dup = org.spoc.requests.get(duplicate, Actor.system())
    assert dup.status is Status.CANCELLED
    [told] = mails(org, "tom@example.com")[before:]
    assert f"Merged into REQ-{survivor:05d}" in told.body_text
    relations = org.spoc.requests.relations(survivor, dana)
    assert [(r.kind, r.id) for r in relations.related] == [("merged_from", duplicate)]
    assert [c.email for c in relations.ccs] == ["tom@example.com"]  # follows the survivor
    with pytest.raises(IllegalTransition):
        org.spoc.requests.merge(duplicate, survivor, dana)
    # Both timelines are there: the duplicate's, and the survivor's note of the merge.
    kinds = [e.kind for e in org.spoc.requests.timeline(survivor, dana)]
    assert "merged_from" in kinds
    assert "merged" in [e.kind for e in org.spoc.requests.timeline(duplicate, dana)]


def test_resolving_a_major_incident_resolves_its_children_with_one_message_each(
    org: Org,
) -> None:
    dana = org.actor(org.dana)
    parent = org.file(fields={"summary": "Mail is down for everyone"})
    children = [
        org.file(requester={"name": f"P{n}", "email": f"p{n}@example.com"}) for n in range(3)
    ]
    for child in children:
        org.spoc.requests.link(child, parent, "child_of", dana)
    org.spoc.requests.transition(parent, Status.OPEN, dana)
    org.spoc.requests.transition(parent, Status.RESOLVED, dana, reason="the mail server is back")
    for n, child in enumerate(children):
        assert org.spoc.requests.get(child, Actor.system()).status is Status.RESOLVED
        [message] = mails(org, f"p{n}@example.com")
        assert "the mail server is back" in message.body_text
    with pytest.raises(IllegalTransition):  # a child has one parent
        org.spoc.requests.link(children[0], org.file(), "child_of", dana)


def test_a_cc_gets_public_replies_and_their_own_link_but_decides_nothing(org: Org) -> None:
    request_id = org.file()
    maria = org.requester(request_id)
    bob_id = org.spoc.requests.add_cc(request_id, maria, "bob@example.com", "Bob Stone")
    [invite] = mails(org, "bob@example.com")
    assert "/track/" in invite.body_text and "copied you" in invite.body_text
    dana = org.actor(org.dana)
    org.spoc.requests.post_message(request_id, dana, "We found the invoice.")
    org.spoc.requests.post_message(request_id, dana, "Internal: check ledger", internal=True)
    bobs = mails(org, "bob@example.com")
    assert [m.subject.split("] ")[1] for m in bobs] == [
        "You were copied on a request",
        "You have a reply",
    ]
    bob = Actor.requester(bob_id, "Bob Stone")
    org.spoc.requests.post_message(request_id, bob, "Thanks, that is ours.")
    with pytest.raises(PermissionDenied):
        org.spoc.requests.transition(request_id, Status.CANCELLED, bob)
    assert [t.kind for t in org.spoc.requests.timeline(request_id, bob)].count("message") >= 2
    org.spoc.requests.remove_cc(request_id, maria, bob_id)
    with org.spoc.db.reader() as session:
        assert session.scalars(select(RequestCc)).all() == []


def test_watchers_get_internal_events(org: Org) -> None:
    request_id = org.file()
    lee = org.actor(org.lee)
    org.spoc.requests.watch(request_id, lee)
    before = len(mails(org, "lee@example.org"))
    org.spoc.requests.post_message(request_id, org.actor(org.sam), "Note", internal=True)
    assert len(mails(org, "lee@example.org")) == before + 1
    org.spoc.requests.watch(request_id, lee, watching=False)
    org.spoc.requests.post_message(request_id, org.actor(org.sam), "Note 2", internal=True)
    assert len(mails(org, "lee@example.org")) == before + 1
