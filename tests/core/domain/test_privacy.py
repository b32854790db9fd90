"""Privacy for every contact: export everything held about them, erase and keep the figures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from spoc import Actor
from spoc.core.cli import main
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import (
    AdminAuditEntry,
    Contact,
    Feedback,
    MagicLink,
    Message,
    OutboxMessage,
    Request,
    TrackingToken,
)
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from spoc.core.kernel.types import Status
from tests.conftest import Org

SECRET = "my-private-diagnosis-7731"


def _fill(org: Org) -> tuple[int, int]:
    """Maria files two requests, writes, gets a reply and a note, rates one; Bob files one."""
    spoc = org.spoc
    first = spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": f"About {SECRET}"},
        requester={"name": "Maria Anders", "email": "maria@example.com", "phone": "+44 1234"},
        subject_id=org.account.id,
    )[0].id
    second = org.file(fields={"summary": "Second question"})
    maria = org.requester(first)
    spoc.requests.post_message(first, org.actor(org.dana), "We are on it")
    spoc.requests.post_message(first, org.actor(org.dana), "internal: call her", internal=True)
    spoc.requests.post_message(first, maria, f"More about {SECRET}")
    spoc.requests.transition(second, Status.OPEN, org.actor(org.dana))
    spoc.requests.transition(second, Status.RESOLVED, org.actor(org.dana))
    spoc.requests.give_feedback(second, maria, 2, f"slow, {SECRET}")
    spoc.links.issue_magic_link("maria@example.com")
    org.file(
        fields={"summary": "Bob's own"},
        requester={"name": "Bob Brown", "email": "bob@example.com"},
    )
    return first, second


def _maria(org: Org) -> int:
    return org.spoc.privacy.find_contact("Maria@Example.com").id


def test_export_holds_everything_about_the_contact_and_no_token(org: Org) -> None:
    first, second = _fill(org)
    document = org.spoc.privacy.export_contact(org.actor(org.ada), _maria(org))
    text = json.dumps(document)
    assert document["contact"]["email"] == "maria@example.com"
    assert document["contact"]["phone"] == "+44 1234"
    references = [r["reference"] for r in document["requests"]]
    assert references == [org.spoc.requests.reference(first), org.spoc.requests.reference(second)]
    bodies = [m["body"] for m in document["requests"][0]["messages"]]
    assert "internal: call her" in bodies and f"More about {SECRET}" in bodies
    assert document["requests"][1]["feedback"][0]["rating"] == 2
    assert document["requests"][0]["tracking_links"]
    assert document["magic_links"]
    assert "Bob" not in text
    with org.spoc.db.reader() as session:
        hashes = list(session.scalars(select(TrackingToken.token_hash)))
        hashes += list(session.scalars(select(MagicLink.token_hash)))
        entry = session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id.desc())).first()
    assert all(h not in text for h in hashes)
    assert entry is not None and entry.action == AuditAction.CONTACT_EXPORTED
    assert entry.actor_id == org.ada.id and entry.target_id == _maria(org)


@pytest.mark.parametrize("who", ["dana", "kim", "val"])
def test_only_an_admin_exports_or_erases(org: Org, who: str) -> None:
    _fill(org)
    actor = org.actor(getattr(org, who))
    with pytest.raises(PermissionDenied):
        org.spoc.privacy.export_contact(actor, _maria(org))
    with pytest.raises(PermissionDenied):
        org.spoc.privacy.erase_contact(actor, _maria(org), reason="because I want to")
    with pytest.raises(PermissionDenied):
        org.spoc.privacy.export_contact(Actor.requester(_maria(org), "Maria"), _maria(org))


def test_erase_keeps_the_figures_and_removes_the_person(org: Org) -> None:
    first, second = _fill(org)
    maria = _maria(org)
    with org.spoc.db.reader() as session:
        before = [
            (r.type_key, r.priority, r.status, r.created_at)
            for r in session.scalars(select(Request).order_by(Request.id))
        ]
    count = org.spoc.privacy.erase_contact(
        org.actor(org.ada), maria, reason="Erasure request by mail 2026-03-01"
    )
    assert count == 2
    with org.spoc.db.reader() as session:
        after = [
            (r.type_key, r.priority, r.status, r.created_at)
            for r in session.scalars(select(Request).order_by(Request.id))
        ]
        contact = session.get(Contact, maria)
        assert contact is not None
        assert (contact.name, contact.phone, contact.attributes) == ("Anonymised", None, {})
        assert "maria" not in contact.email
        texts = [m.body for m in session.scalars(select(Message))]
        texts += [r.summary + json.dumps(r.fields) for r in session.scalars(select(Request))]
        texts += [f.comment for f in session.scalars(select(Feedback))]
        texts += [o.recipient + o.body_text for o in session.scalars(select(OutboxMessage))]
        assert not any(SECRET in t or "maria@example.com" in t for t in texts)
        assert session.scalar(select(Feedback.rating)) == 2
        links = session.scalar(
            select(func.count())
            .select_from(TrackingToken)
            .where(TrackingToken.request_id.in_([first, second]))
        )
        assert links == 0
        assert session.scalar(select(func.count()).select_from(MagicLink)) == 0
        bob = session.scalar(select(Contact).where(Contact.email == "bob@example.com"))
        assert bob is not None and bob.name == "Bob Brown"
        entry = session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id.desc())).first()
    assert before == after
    assert entry is not None and entry.action == AuditAction.CONTACT_ERASED
    assert "Erasure request by mail" in entry.summary


def test_erase_is_idempotent_and_asks_for_a_reason(org: Org) -> None:
    _fill(org)
    maria = _maria(org)
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.privacy.erase_contact(org.actor(org.ada), maria, reason="short")
    assert "reason" in refused.value.errors
    assert org.spoc.privacy.find_contact("maria@example.com").name == "Maria Anders"
    for _ in range(2):
        assert org.spoc.privacy.erase_contact(org.actor(org.ada), maria, reason="GDPR art. 17") == 2
    with org.spoc.db.reader() as session:
        contact = session.get(Contact, maria)
        assert contact is not None and contact.name == "Anonymised"


def test_cli_exports_and_erases_a_contact(org: Org, database_url: str) -> None:
    _fill(org)
    env = {"SPOC_ENV": "dev", "SPOC_DATABASE_URL": database_url, "SPOC_PLUGINS": "generic"}
    runner = CliRunner()
    result = runner.invoke(
        main, ["contact", "export", "maria@example.com", "--admin", "dana@example.org"], env=env
    )
    assert result.exit_code == 1 and "not an active administrator" in result.output
    result = runner.invoke(
        main, ["contact", "export", "maria@example.com", "--admin", "ada@example.org"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["contact"]["name"] == "Maria Anders"
    result = runner.invoke(
        main,
        [
            *("contact", "erase", "maria@example.com", "--admin", "ada@example.org", "--yes"),
            *("--reason", "Asked by phone, ticket 42"),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "2 requests" in result.output
    result = runner.invoke(
        main, ["contact", "export", "nobody@example.com", "--admin", "ada@example.org"], env=env
    )
    assert result.exit_code == 1 and "no contact" in result.output
