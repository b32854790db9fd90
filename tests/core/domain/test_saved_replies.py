"""Saved replies: rendered for the request they are used on, unable to run code, private to
their owner or team, counted when a message using one is sent."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from spoc.core.domain.knowledge.templates import _ENV, SAMPLE, TemplateRefused, render_template
from spoc.core.domain.models import SavedReply
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from tests.conftest import Org

GREETING = (
    "Hello {{ requester.first_name }},\n"
    "about {{ request.reference }} ({{ request.summary }}): {{ spoc.name }} looks after it.\n"
    "{{ agent.name }}"
)


def test_a_saved_reply_renders_for_the_request_it_is_used_on(org: Org) -> None:
    spoc, lee = org.spoc, org.actor(org.lee)
    reply = spoc.saved_replies.create(lee, title="Greeting", body=GREETING)
    request_id = org.file()
    detail = spoc.requests.detail(request_id, lee, channel="console")

    text = spoc.saved_replies.render(reply.id, lee, detail)

    assert text == (
        f"Hello Maria,\nabout {detail.reference} (Where is my invoice?): "
        "Dana Reyes looks after it.\nLee Chen"
    )


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ request.__class__ }}",
    "{{ request['__class__'] }}",
    "{{ request.reference.upper() }}",
    "{{ request.items }}",
    "{{ self }}",
    "{{ request|attr('__class__') }}",
    "{% for x in request %}{{ x }}{% endfor %}",
    "{% set x = 1 %}",
    "{{ 'a' * 100000000 }}",
    "{% include 'console/request.html' %}",
    "{{ lipsum() }}",
    "{{ requester.email }}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_a_sandbox_escape_fails_closed_naming_the_body(org: Org, body: str) -> None:
    lee = org.actor(org.lee)
    with pytest.raises(TemplateRefused) as refused:
        org.spoc.saved_replies.create(lee, title="Sneaky", body=body)
    assert set(refused.value.errors) == {"body"}
    assert "not" in refused.value.errors["body"]  # "is not a variable", "is not allowed"
    assert org.spoc.saved_replies.for_agent(lee) == []


def test_a_stored_escape_fails_closed_when_rendered_and_shows_no_data(org: Org) -> None:
    # A row that bypassed the check on save (written by hand, or by an older version).
    spoc, lee = org.spoc, org.actor(org.lee)
    with spoc.db.transaction() as session:
        row = SavedReply(
            owner_agent_id=org.lee.id,
            title="Old",
            body="{{ ''.__class__.__mro__ }}",
            uses=0,
            created_at=spoc.clock.now(),
            updated_at=spoc.clock.now(),
        )
        session.add(row)
        session.flush()
        reply_id = row.id
    detail = spoc.requests.detail(org.file(), lee, channel="console")
    with pytest.raises(TemplateRefused, match="__mro__"):
        spoc.saved_replies.render(reply_id, lee, detail)


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ request.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ request.reference.upper() }}",
        "{{ request.keys }}",
        "{{ range(3) }}",
    ],
)
def test_the_sandbox_itself_refuses_what_the_checker_would(body: str) -> None:
    """The second wall, without the first: the environment alone fails closed (an error, not
    an empty string or an object's repr)."""
    with pytest.raises((SecurityError, UndefinedError)):
        _ENV.from_string(body).render(SAMPLE)


def test_a_template_that_does_not_parse_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateRefused, match="line 2"):
        render_template("fine\n{% if %}", SAMPLE)
    with pytest.raises(TemplateSyntaxError):
        _ENV.parse("{% if %}")


def test_personal_replies_are_invisible_to_everyone_else(org: Org) -> None:
    spoc = org.spoc
    mine = spoc.saved_replies.create(org.actor(org.lee), title="Mine", body="Hi")
    for other in (org.dana, org.sam, org.ada, org.kim):
        actor = org.actor(other)
        assert mine.id not in [r.id for r in spoc.saved_replies.for_agent(actor)]
        with pytest.raises(NotFoundError):
            spoc.saved_replies.get(mine.id, actor)
        with pytest.raises(NotFoundError):
            spoc.saved_replies.update(actor, mine.id, title="Taken", body="x")
        with pytest.raises(NotFoundError):
            spoc.saved_replies.delete(actor, mine.id)
    assert spoc.saved_replies.get(mine.id, org.actor(org.lee)).title == "Mine"


def test_team_replies_are_for_the_team_and_admins(org: Org) -> None:
    spoc = org.spoc
    sam = org.actor(org.sam)  # a member of the desk
    reply = spoc.saved_replies.create(sam, title="Desk hello", body="Hi", team_id=org.desk.id)
    assert [r.team_name for r in spoc.saved_replies.for_agent(sam)] == ["Service desk"]
    assert reply.id in [r.id for r in spoc.saved_replies.for_agent(org.actor(org.ada))]
    assert spoc.saved_replies.for_agent(org.actor(org.lee)) == []
    with pytest.raises(PermissionDenied):
        spoc.saved_replies.create(
            org.actor(org.lee), title="Not mine", body="x", team_id=org.desk.id
        )
    assert spoc.saved_replies.for_agent(org.actor(org.val)) == []  # viewers post nothing


def test_bad_input_names_the_field_and_changes_nothing(org: Org) -> None:
    lee = org.actor(org.lee)
    with pytest.raises(ValidationFailed) as empty:
        org.spoc.saved_replies.create(lee, title=" ", body="Hi")
    assert set(empty.value.errors) == {"title"}
    reply = org.spoc.saved_replies.create(lee, title="Ok", body="Hi")
    with pytest.raises(TemplateRefused):
        org.spoc.saved_replies.update(lee, reply.id, title="Ok", body="{{ nope }}")
    assert org.spoc.saved_replies.get(reply.id, lee).body == "Hi"


def test_usage_is_counted_when_a_message_using_it_is_sent(org: Org) -> None:
    spoc, lee = org.spoc, org.actor(org.lee)
    reply = spoc.saved_replies.create(lee, title="Greeting", body=GREETING)
    request_id = org.file()

    def counted(session: object, _request: object) -> None:
        spoc.saved_replies.count_use(session, reply.id, lee)  # type: ignore[arg-type]

    spoc.requests.post_message(request_id, lee, "Hello Maria", apply=counted)
    after = spoc.saved_replies.get(reply.id, lee)
    assert after.uses == 1 and after.last_used_at == spoc.clock.now()
    # Someone else's id counts nothing and the message still goes.
    dana = org.actor(org.dana)
    spoc.requests.post_message(
        request_id,
        dana,
        "Again",
        apply=lambda s, _r: spoc.saved_replies.count_use(s, reply.id, dana) and None,
    )
    assert spoc.saved_replies.get(reply.id, lee).uses == 1
