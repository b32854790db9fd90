"""The authorisation matrix: every role x action x own, foreign and private object, through
console, portal and API, written from the rules of issue 13 (what *should* happen).

A *denied* check passes only if the answer is a refusal (a 4xx, or a redirect to the sign-in
page), no private marker of the object appears in the body, and nothing changed in the
database. An *allowed* check passes if the answer is not a refusal of access (2xx, or a 3xx
that is not to the sign-in page; a 409/422 business refusal of a repeated state change still
proves access). A *listed* check is an allowed read of a list or page that must not show the
private markers. Beside the table, *probes* check the holes that are not one URL per role:
a typed record number, the name stored behind an email, a reused magic link, numbers beyond
what a column holds.

The world is built once per module on SQLite, with one signed-in client per role.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from spoc import Actor, FrozenClock, create_app
from spoc.core.domain.models import (
    AdminAuditEntry,
    Agent,
    ApiToken,
    Escalation,
    Message,
    Request,
    Subject,
    SubjectDeputy,
)
from spoc.core.services import Spoc, spoc_of
from tests.conftest import START, Org, build_org, login

PRIVATE_MARK = "PRIVATE-MARK-5521-CLINICAL"
PATIENT_NAME = "Tobias Brightwater"
RECORD_NUMBER = "MRN-90417"
PATIENT_EMAIL = "tobias.private@example.net"
FOREIGN_MARK = "FOREIGN-MARK-88-BOB"
FOREIGN_EMAIL = "bob.foreign@example.net"

MARKERS = {
    "private": (PRIVATE_MARK, PATIENT_NAME, RECORD_NUMBER, PATIENT_EMAIL),
    "foreign": (FOREIGN_MARK, FOREIGN_EMAIL),
    "own": (),
}

SELF = -1  # in a form: the caller's own agent id (one assigns oneself)


@dataclass
class World:
    app: Flask
    spoc: Spoc
    org: Org
    own: int
    foreign: int
    private: int
    private_appointment: int
    own_subject: int
    foreign_subject: int
    patient: int
    tokens: dict[str, str]
    track: dict[str, str]
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def ref(self, request_id: int) -> str:
        return self.spoc.requests.reference(request_id)

    def target(self, obj: str) -> int:
        return {"own": self.own, "foreign": self.foreign, "private": self.private}[obj]


def _csrf(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(sqlite_template, folder / "spoc.sqlite")
    app = create_app(
        clock=FrozenClock(START),
        env="test",
        database_url=f"sqlite:///{folder / 'spoc.sqlite'}",
        plugins=["generic", "healthcare"],
        instance_path=folder / "instance",
        timezone="Europe/London",
        calendars={"default": {"always_open": True}},
    )
    app.config["TESTING"] = True
    spoc = spoc_of(app)
    org = build_org(spoc)
    d = spoc.directory
    d.add_team(key="clinical", name="Clinical team", members=[org.sam.id])
    foreign_subject = d.add_subject(
        kind="generic.account", name="Contoso Ltd", spoc_agent_id=org.sam.id, external_ref="CO-9"
    )
    patient = d.add_subject(
        kind="healthcare.patient",
        name=PATIENT_NAME,
        spoc_agent_id=org.sam.id,
        external_ref=RECORD_NUMBER,
        attributes={"date_of_birth": "1958-04-12", "record_number": RECORD_NUMBER},
    )
    own, own_token = spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": "Where is my invoice?"},
        requester={"name": "Maria Anders", "email": "maria@example.com"},
        subject_id=org.account.id,
    )
    spoc.escalations.escalate(
        own.id, org.actor(org.dana), team_key="specialists", reason="Needs a specialist"
    )
    foreign, foreign_token = spoc.requests.create_with_tracking_link(
        type_key="generic.question",
        fields={"summary": f"Contract {FOREIGN_MARK}"},
        requester={"name": "Bob Foreign", "email": FOREIGN_EMAIL},
        subject_id=foreign_subject.id,
    )
    patient_contact = {"name": PATIENT_NAME, "email": PATIENT_EMAIL}
    private = spoc.requests.create(
        type_key="healthcare.referral",
        fields={"what": PRIVATE_MARK, "why": PRIVATE_MARK, "receiving_organisation": "Skin clinic"},
        requester=patient_contact,
        subject_id=patient.id,
    )
    sam = org.actor(org.sam)
    spoc.requests.post_message(private.id, sam, f"Internal: {PRIVATE_MARK}", internal=True)
    appointment = spoc.requests.create(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Dermatology", "reason": PRIVATE_MARK},
        requester=patient_contact,
        subject_id=patient.id,
    )
    tokens = {}
    for role, agent in (
        ("admin", org.ada),
        ("agent", org.dana),
        ("specialist", org.kim),
        ("viewer", org.val),
    ):
        tokens[role] = spoc.tokens.create(org.actor(org.ada), agent.email, "matrix")[1]
    w = World(
        app,
        spoc,
        org,
        own.id,
        foreign.id,
        private.id,
        appointment.id,
        org.account.id,
        foreign_subject.id,
        patient.id,
        tokens,
        {"own": own_token, "foreign": foreign_token},
    )
    for role, agent in (
        ("admin", org.ada),
        ("agent", org.dana),
        ("specialist", org.kim),
        ("viewer", org.val),
    ):
        client = app.test_client()
        login(client, spoc, agent)
        w.clients[role] = client
        w.csrf[role] = _csrf(client, "/my-requests")
    tracking = app.test_client()
    w.clients["tracking"] = tracking
    w.csrf["tracking"] = _csrf(tracking, f"/track/{own_token}")
    made = spoc.links.issue_magic_link("maria@example.com")
    assert made is not None
    magic = app.test_client()
    assert magic.get(f"/my/{made[1]}").status_code in (200, 302, 303)
    w.clients["magic"] = magic
    w.csrf["magic"] = _csrf(magic, "/my-requests")
    anonymous = app.test_client()
    w.clients["anonymous"] = anonymous
    w.csrf["anonymous"] = _csrf(anonymous, "/my-requests")
    yield w
    spoc.db.dispose()


def fingerprint(w: World) -> tuple[Any, ...]:
    """What a refused call must leave as it was."""
    with w.spoc.db.reader() as session:
        requests = list(
            session.execute(
                select(
                    Request.id,
                    Request.status,
                    Request.version,
                    Request.owner_agent_id,
                    Request.subject_id,
                    Request.escalation_level,
                    Request.priority,
                ).order_by(Request.id)
            )
        )
        subjects = list(
            session.execute(select(Subject.id, Subject.spoc_agent_id).order_by(Subject.id))
        )
        deputies = list(
            session.execute(
                select(SubjectDeputy.subject_id, SubjectDeputy.agent_id).order_by(
                    SubjectDeputy.subject_id, SubjectDeputy.position
                )
            )
        )
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Message, Escalation, ApiToken, Agent, AdminAuditEntry)
        )
        revoked = session.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_not(None))
        )
        appointment = w.spoc.requests.get(w.private_appointment, Actor.system()).fields
    return (requests, subjects, deputies, counts, revoked, appointment)


# --- the table ----------------------------------------------------------------------------

Url = Callable[[World], str]
Data = Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Case:
    id: str
    who: str
    surface: str  # console, portal, api
    method: str
    url: Url
    obj: str  # own, foreign, private, none
    expect: str  # allow, deny, listed
    data: Data = None


CASES: list[Case] = []


def case(
    who: str,
    surface: str,
    action: str,
    obj: str,
    expect: str,
    method: str,
    url: Url,
    data: Data = None,
) -> None:
    CASES.append(
        Case(f"{surface}:{who}:{action}:{obj}", who, surface, method, url, obj, expect, data)
    )


STAFF = ("admin", "agent", "specialist", "viewer")
PUBLIC = ("tracking", "magic", "anonymous")
OBJECTS = ("own", "foreign", "private")


def may_read(who: str, obj: str) -> bool:
    if obj == "private":
        return False  # nobody in the table is responsible for the patient: a reason is needed
    if who == "specialist":
        return obj == "own"  # escalated to the specialist's team
    return who in STAFF


def may_write(who: str, obj: str, action: str) -> bool:
    if not may_read(who, obj) or who == "viewer":
        return False
    if who == "specialist":
        return action in ("note",)
    return True


def _rid(obj: str) -> Callable[[World], int]:
    return lambda w: w.target(obj)


CONSOLE_WRITES: dict[str, Callable[[World], dict[str, Any]]] = {
    "reply": lambda w: {"body": "Thanks, we are on it."},
    "note": lambda w: {"body": "Checked the history."},
    "transition": lambda w: {"target": "waiting", "reason": "Asked for details"},
    "escalate": lambda w: {"team": "clinical", "reason": "Please look at this"},
    "assign": lambda w: {"agent_id": SELF, "reason": "I will take it"},
    "priority": lambda w: {"priority": "P2", "reason": "Customer waiting"},
}
CONSOLE_ACTION = {"transition": "status"}

API_WRITES: dict[str, tuple[str, Callable[[World], dict[str, Any]]]] = {
    "reply": ("messages", lambda w: {"body": "Thanks, we are on it."}),
    "note": ("messages", lambda w: {"body": "Checked the history.", "internal": True}),
    "transition": ("transitions", lambda w: {"to": "waiting", "reason": "Asked for details"}),
    "escalate": ("escalations", lambda w: {"team": "clinical", "reason": "Please look"}),
}

for who in STAFF:
    for obj in OBJECTS:
        rid = _rid(obj)
        read = "allow" if may_read(who, obj) else "deny"
        case(
            who,
            "console",
            "read",
            obj,
            read,
            "GET",
            lambda w, rid=rid: f"/console/requests/{rid(w)}",
        )
        case(
            who,
            "api",
            "read",
            obj,
            read,
            "GET",
            lambda w, rid=rid: f"/api/v1/requests/{w.ref(rid(w))}",
        )
        case(
            who,
            "api",
            "timeline",
            obj,
            read,
            "GET",
            lambda w, rid=rid: f"/api/v1/requests/{w.ref(rid(w))}/timeline",
        )
        case(
            who,
            "api",
            "exports",
            obj,
            read,
            "GET",
            lambda w, rid=rid: f"/api/v1/requests/{w.ref(rid(w))}/exports",
        )
        for action, body in CONSOLE_WRITES.items():
            if who == "specialist" and obj == "own" and action != "note":
                continue  # a specialist's other rights on an escalation are not this issue's
            verb = CONSOLE_ACTION.get(action, action)
            case(
                who,
                "console",
                action,
                obj,
                "allow" if may_write(who, obj, action) else "deny",
                "POST",
                lambda w, rid=rid, verb=verb: f"/console/requests/{rid(w)}/{verb}",
                body,
            )
        for action, (tail, body) in API_WRITES.items():
            case(
                who,
                "api",
                action,
                obj,
                "allow" if may_write(who, obj, action) else "deny",
                "POST",
                lambda w, rid=rid, tail=tail: f"/api/v1/requests/{w.ref(rid(w))}/{tail}",
                body,
            )
    # Private exports of the appointment (FHIR, iCalendar) need a reason from strangers.
    for key in ("appointment.ics", "appointment.fhir.json"):
        case(
            who,
            "console",
            f"export-{key}",
            "private",
            "deny",
            "GET",
            lambda w, key=key: f"/console/requests/{w.private_appointment}/exports/{key}",
        )
        case(
            who,
            "api",
            f"export-{key}",
            "private",
            "deny",
            "GET",
            lambda w, key=key: f"/api/v1/requests/{w.ref(w.private_appointment)}/exports/{key}",
        )
    case(
        who,
        "console",
        "read-appointment",
        "private",
        "deny",
        "GET",
        lambda w: f"/console/requests/{w.private_appointment}",
    )
    case(
        who,
        "console",
        "change-appointment",
        "private",
        "deny",
        "POST",
        lambda w: f"/p/healthcare/requests/{w.private_appointment}/appointment",
        lambda w: {"action": "cancel", "reason": "Clinic closed"},
    )
    # Lists show only what their reader may read.
    for action, url in (
        ("list-queue-all", "/console/queues/all"),
        ("list-queue-mine", "/console/"),
        ("list-subjects", "/console/subjects"),
        ("list-api-requests", "/api/v1/requests"),
        ("list-api-subjects", "/api/v1/subjects"),
        ("list-api-contacts", "/api/v1/contacts"),
    ):
        surface = "api" if url.startswith("/api") else "console"
        case(who, surface, action, "private", "listed", "GET", lambda w, url=url: url)
    case(
        who,
        "console",
        "subject-page",
        "private",
        "deny",
        "GET",
        lambda w: f"/console/subjects/{w.patient}",
    )
    case(who, "api", "subject", "private", "deny", "GET", lambda w: f"/api/v1/subjects/{w.patient}")
    # The specialist's own subject page must not list the requests they cannot open.
    case(
        who,
        "console",
        "subject-page",
        "foreign",
        "listed" if who == "specialist" else "allow",
        "GET",
        lambda w: f"/console/subjects/{w.foreign_subject}",
    )
    # Who may change the SPOC and deputies: an admin or the current SPOC.
    case(
        who,
        "console",
        "change-people",
        "private",
        "allow" if who == "admin" else "deny",
        "POST",
        lambda w: f"/console/subjects/{w.patient}/people",
        lambda w: {"spoc": w.org.sam.id},
    )  # an admin saves the people as they are
    case(
        who,
        "console",
        "change-people",
        "own",
        "allow" if who in ("admin", "agent") else "deny",
        "POST",
        lambda w: f"/console/subjects/{w.own_subject}/people",
        lambda w: {"spoc": w.org.dana.id, "deputy1": w.org.lee.id, "deputy2": w.org.sam.id},
    )
    # Admin pages, tokens and the audit log.
    for action, url in (
        ("admin-agents", "/console/admin/agents"),
        ("admin-teams", "/console/admin/teams"),
        ("admin-plugins", "/console/admin/plugins"),
        ("admin-outbox", "/console/admin/outbox"),
        ("admin-tokens", "/console/admin/tokens"),
        ("audit-log", "/console/admin/audit"),
        ("contact-page", "/console/admin/contacts"),
    ):
        case(
            who,
            "console",
            action,
            "none",
            "allow" if who == "admin" else "deny",
            "GET",
            lambda w, url=url: url,
        )
    case(
        who,
        "console",
        "token-create",
        "none",
        "deny" if who != "admin" else "allow",
        "POST",
        lambda w: "/console/admin/tokens",
        lambda w: {"agent_email": w.org.val.email, "name": "matrix extra"},
    )
    case(
        who,
        "console",
        "admin-add-agent",
        "none",
        "deny" if who != "admin" else "allow",
        "POST",
        lambda w: "/console/admin/agents",
        lambda w, who=who: {"email": f"new-{who}@example.org", "name": "New One", "role": "admin"},
    )
    case(
        who,
        "console",
        "contact-export",
        "private",
        "deny" if who != "admin" else "allow",
        "POST",
        lambda w: "/console/admin/contacts/export",
        lambda w: {"email": PATIENT_EMAIL, "reason": "Subject access request"},
    )
    if who != "admin":  # an admin's erasure is tested in tests/core/web/console/test_contacts.py
        case(
            who,
            "console",
            "contact-erase",
            "foreign",
            "deny",
            "POST",
            lambda w: "/console/admin/contacts/erase",
            lambda w: {"email": FOREIGN_EMAIL, "reason": "Erasure asked for", "confirm": "erase"},
        )

# Requesters and outsiders.
for who in PUBLIC:
    for obj in OBJECTS:
        rid = _rid(obj)
        case(
            who,
            "console",
            "read",
            obj,
            "deny",
            "GET",
            lambda w, rid=rid: f"/console/requests/{rid(w)}",
        )
        case(
            who,
            "api",
            "read",
            obj,
            "deny",
            "GET",
            lambda w, rid=rid: f"/api/v1/requests/{w.ref(rid(w))}",
        )
        case(
            who,
            "console",
            "reply",
            obj,
            "deny",
            "POST",
            lambda w, rid=rid: f"/console/requests/{rid(w)}/reply",
            lambda w: {"body": "hi"},
        )
        case(
            who,
            "api",
            "reply",
            obj,
            "deny",
            "POST",
            lambda w, rid=rid: f"/api/v1/requests/{w.ref(rid(w))}/messages",
            lambda w: {"body": "hi"},
        )
        mine = who == "magic" and obj == "own"
        case(
            who,
            "portal",
            "read",
            obj,
            "allow" if mine else "deny",
            "GET",
            lambda w, rid=rid: f"/my/requests/{rid(w)}",
        )
        case(
            who,
            "portal",
            "reply",
            obj,
            "allow" if mine else "deny",
            "POST",
            lambda w, rid=rid: f"/my/requests/{rid(w)}/reply",
            lambda w: {"body": "Any news?"},
        )
        case(
            who,
            "portal",
            "cancel",
            obj,
            "deny",
            "POST",
            lambda w, rid=rid: f"/my/requests/{rid(w)}/bogus-action",
            lambda w: {},
        )
    case(who, "portal", "track-read", "own", "allow", "GET", lambda w: f"/track/{w.track['own']}")
    case(
        who,
        "portal",
        "track-guess",
        "foreign",
        "deny",
        "GET",
        lambda w: f"/track/{w.track['foreign'][:-4]}abcd",
    )
    for action, url in (
        ("admin-agents", "/console/admin/agents"),
        ("admin-tokens", "/console/admin/tokens"),
        ("audit-log", "/console/admin/audit"),
        ("list-queue-all", "/console/queues/all"),
        ("list-subjects", "/console/subjects"),
        ("list-api-contacts", "/api/v1/contacts"),
        ("list-api-subjects", "/api/v1/subjects"),
    ):
        surface = "api" if url.startswith("/api") else "console"
        case(who, surface, action, "none", "deny", "GET", lambda w, url=url: url)
    case(
        who,
        "console",
        "change-people",
        "private",
        "deny",
        "POST",
        lambda w: f"/console/subjects/{w.patient}/people",
        lambda w: {"spoc": w.org.dana.id},
    )
    case(
        who,
        "portal",
        "change-appointment",
        "private",
        "deny",
        "POST",
        lambda w: f"/p/healthcare/requests/{w.private_appointment}/appointment",
        lambda w: {"action": "cancel", "reason": "Not coming"},
    )


def _refused(response: Any) -> bool:
    if 400 <= response.status_code < 500:
        return True
    location = response.headers.get("Location", "")
    return response.status_code in (301, 302, 303, 307) and "/login" in location


def _call(w: World, c: Case) -> Any:
    client = w.clients[c.who]
    url = c.url(w)
    headers = {}
    if c.surface == "api" and c.who in w.tokens:
        headers["Authorization"] = f"Bearer {w.tokens[c.who]}"
    if c.method == "GET":
        return client.get(url, headers=headers)
    data = c.data(w) if c.data else {}
    agents = {"admin": w.org.ada, "agent": w.org.dana, "specialist": w.org.kim, "viewer": w.org.val}
    if data.get("agent_id") == SELF and c.who in agents:
        data["agent_id"] = agents[c.who].id
    if c.surface == "api":
        return client.post(url, json=data, headers=headers)
    return client.post(url, data={**data, "csrf_token": w.csrf[c.who]}, headers=headers)


def _check(w: World, c: Case) -> None:
    before = fingerprint(w) if c.expect == "deny" else None
    response = _call(w, c)
    body = response.get_data(as_text=True)
    markers = MARKERS.get(c.obj, ())
    leaked = [m for m in markers if m in body]
    assert response.status_code < 500, f"{c.id}: {response.status_code}"
    if c.expect == "deny":
        assert _refused(response), f"{c.id}: answered {response.status_code}, not refused"
        assert not leaked, f"{c.id}: refusal leaks {leaked}"
        assert fingerprint(w) == before, f"{c.id}: a refused call changed the database"
    elif c.expect == "listed":
        # A list may be refused to a role altogether; what it must never do is show more.
        assert not leaked, f"{c.id}: list shows {leaked}"
    else:
        assert not _refused(response) or response.status_code in (409, 422), (
            f"{c.id}: refused ({response.status_code})"
        )


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_authorization_matrix(world: World, c: Case) -> None:
    _check(world, c)


def test_the_matrix_is_big_enough_and_covers_every_role() -> None:
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
    assert len(CASES) >= 300, len(CASES)
    assert {c.who for c in CASES} == set(STAFF) | set(PUBLIC)
    assert {c.surface for c in CASES} == {"console", "portal", "api"}
    print(f"\nauthorization matrix: {len(CASES)} checks and {len(PROBES)} probes")


# --- probes: the holes of issue 13 that are not one URL per role ---------------------------


def _anonymous(w: World, address: str) -> FlaskClient:
    # Each probe files from its own client address, so the portal's rate limit is not in play.
    client = w.app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _file(client: FlaskClient, email: str, name: str, reference: str) -> Any:
    token = _csrf(client, "/new/generic.question")
    data = {
        "csrf_token": token,
        "requester_name": name,
        "requester_email": email,
        "reference": reference,
        "summary": "Please tell me about my appointment",
    }
    return client.post("/new/generic.question", data=data)


def _in_record(w: World) -> int:
    with w.spoc.db.reader() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Request).where(Request.subject_id == w.patient)
            )
            or 0
        )


def probe_typed_record_number(w: World) -> None:
    """A typed record number never files into the patient's record, and the answer is the same
    as for a number that does not exist."""
    before = _in_record(w)
    real = _file(_anonymous(w, "10.9.0.1"), "outsider@example.net", "Out Sider", RECORD_NUMBER)
    made_up = _file(_anonymous(w, "10.9.0.2"), "outsider@example.net", "Out Sider", "MRN-00000")
    assert real.status_code == made_up.status_code == 303
    assert _in_record(w) == before
    page = _anonymous(w, "10.9.0.1").get(real.headers["Location"]).get_data(as_text=True)
    assert PATIENT_NAME not in page and RECORD_NUMBER not in page


def probe_stored_name_behind_an_email(w: World) -> None:
    """Filing with someone's address and reading the tracking page tells nothing stored."""
    client = _anonymous(w, "10.9.0.3")
    filed = _file(client, "maria@example.com", "Prober Person", "")
    assert filed.status_code == 303
    page = client.get(filed.headers["Location"]).get_data(as_text=True)
    assert "REQ-" in page and "Maria Anders" not in page


def probe_magic_link_reuse(w: World) -> None:
    made = w.spoc.links.issue_magic_link("maria@example.com")
    assert made is not None
    first, second = _anonymous(w, "10.9.0.4"), _anonymous(w, "10.9.0.5")
    assert first.get(f"/my/{made[1]}").status_code in (200, 302, 303)
    again = second.get(f"/my/{made[1]}", follow_redirects=True).get_data(as_text=True)
    assert "Where is my invoice?" not in again  # the second holder is not signed in
    assert "used already" in again


def probe_numbers_beyond_a_column(w: World) -> None:
    huge = str(2**70)
    headers = {"Authorization": f"Bearer {w.tokens['admin']}"}
    api = w.clients["admin"]
    for response in (
        w.clients["admin"].get(f"/console/requests/{huge}"),
        api.get(f"/api/v1/requests/REQ-{huge}", headers=headers),
        api.get(f"/api/v1/contacts?cursor={huge}", headers=headers),
        api.post(
            f"/api/v1/requests/{w.ref(w.own)}/escalations",
            data='{"team": "specialists", "reason": "probe", "answer_within_hours": 1e999}',
            headers={**headers, "Content-Type": "application/json"},
        ),
    ):
        assert 400 <= response.status_code < 500, response.status_code


PROBES: list[Callable[[World], None]] = [
    probe_typed_record_number,
    probe_stored_name_behind_an_email,
    probe_magic_link_reuse,
    probe_numbers_beyond_a_column,
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.__name__ for p in PROBES])
def test_probe(world: World, probe: Callable[[World], None]) -> None:
    probe(world)
