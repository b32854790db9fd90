"""Staff accounts in the console: server-side sessions, per-client sign-in pauses, unlock,
password change and reset by mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from spoc import FrozenClock
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry
from spoc.core.services import spoc_of
from tests.conftest import PASSWORD, AppFactory, Inbox, Org, build_org, csrf_token, give_password

NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def web(app: Flask, org: Org) -> tuple[Flask, Org]:
    return app, org


def sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, ip: str = "127.0.0.1"
) -> tuple[int, str]:
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code, response.get_data(as_text=True)


def signed_in(app: Flask, org: Org, who: str = "dana") -> FlaskClient:
    give_password(org.spoc, getattr(org, who))
    client = app.test_client()
    assert sign_in(client, getattr(org, who).email)[0] == 303
    return client


def cookie_of(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def audit(org: Org, action: str) -> list[AdminAuditEntry]:
    with org.spoc.db.reader() as db:
        return list(db.scalars(select(AdminAuditEntry).where(AdminAuditEntry.action == action)))


# --- sessions ------------------------------------------------------------------------------


def test_cookie_copied_before_sign_out_is_refused_after_it(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org)
    stolen = cookie_of(client)
    assert with_cookie(app, stolen).get("/console/queues/mine").status_code == 200
    token = csrf_token(client, "/console/absences")
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 303
    replay = with_cookie(app, stolen).get("/console/queues/mine")
    assert replay.status_code == 303
    assert replay.headers["Location"].startswith("/console/login")


def test_idle_session_ends_after_the_idle_timeout(make_app: AppFactory, clock: FrozenClock) -> None:
    app = make_app(session_idle_minutes=30)
    org = build_org(spoc_of(app))
    client = signed_in(app, org)
    clock.advance(timedelta(minutes=29))
    assert client.get("/console/queues/mine").status_code == 200  # use keeps it alive
    clock.advance(timedelta(minutes=29))
    assert client.get("/console/queues/mine").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert client.get("/console/queues/mine").status_code == 303


def test_busy_session_still_ends_at_its_absolute_lifetime(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    app = make_app(session_idle_minutes=60, session_max_hours=8)
    org = build_org(spoc_of(app))
    client = signed_in(app, org)
    for _ in range(15):  # a click every half hour for seven and a half hours
        clock.advance(timedelta(minutes=30))
        assert client.get("/console/queues/mine").status_code == 200
    clock.advance(timedelta(minutes=30))
    assert client.get("/console/queues/mine").status_code == 303


def test_password_change_signs_out_every_other_device(web: tuple[Flask, Org]) -> None:
    app, org = web
    laptop = signed_in(app, org)
    phone = with_cookie(app, cookie_of(signed_in(app, org)))
    token = csrf_token(laptop, "/console/account")
    response = laptop.post(
        "/console/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert laptop.get("/console/queues/mine").status_code == 200  # this device goes on
    assert phone.get("/console/queues/mine").status_code == 303
    assert sign_in(app.test_client(), org.dana.email)[0] == 401
    assert sign_in(app.test_client(), org.dana.email, NEW_PASSWORD)[0] == 303
    [entry] = audit(org, AuditAction.PASSWORD_CHANGED)
    assert entry.target_id == org.dana.id and entry.actor_id == org.dana.id


def test_password_change_needs_the_current_password(web: tuple[Flask, Org]) -> None:
    app, org = web
    client = signed_in(app, org)
    token = csrf_token(client, "/console/account")
    response = client.post(
        "/console/account/password",
        data={
            "csrf_token": token,
            "current_password": "not it at all",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    assert sign_in(app.test_client(), org.dana.email)[0] == 303


# --- sign-in pauses --------------------------------------------------------------------------


def test_paused_and_unknown_accounts_get_the_same_answer(web: tuple[Flask, Org]) -> None:
    app, org = web
    give_password(org.spoc, org.ada)
    client = app.test_client()
    answers = {}
    for email, ip in (("ada@example.org", "192.0.2.1"), ("nobody@example.org", "192.0.2.2")):
        for _ in range(5):
            sign_in(client, email, "wrong password", ip=ip)
        code, page = sign_in(client, email, PASSWORD, ip=ip)
        found = re.search(r'role="alert"><p>(.*?)</p>', page)
        assert found, page
        answers[email] = (code, found.group(1))
    assert answers["ada@example.org"] == answers["nobody@example.org"]
    assert answers["ada@example.org"][0] == 401
    assert "locked" not in answers["ada@example.org"][1]


def test_attacker_elsewhere_cannot_lock_the_real_admin_out(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    give_password(org.spoc, org.ada)
    attacker = app.test_client()
    for _ in range(6):
        assert sign_in(attacker, org.ada.email, "guess", ip="203.0.113.9")[0] == 401
    # Even the right password is refused from the attacker's address for a while...
    assert sign_in(attacker, org.ada.email, PASSWORD, ip="203.0.113.9")[0] == 401
    # ...but the real admin, at her own desk, signs in.
    assert sign_in(app.test_client(), org.ada.email, PASSWORD, ip="198.51.100.4")[0] == 303
    clock.advance(timedelta(minutes=16))
    assert sign_in(attacker, org.ada.email, PASSWORD, ip="203.0.113.9")[0] == 303


def test_admin_unlocks_an_account_from_its_page_and_it_is_audited(
    web: tuple[Flask, Org],
) -> None:
    app, org = web
    give_password(org.spoc, org.dana)
    for _ in range(5):
        sign_in(app.test_client(), org.dana.email, "wrong")
    assert sign_in(app.test_client(), org.dana.email)[0] == 401
    admin = signed_in(app, org, "ada")
    page = admin.get(f"/console/admin/agents/{org.dana.id}").get_data(as_text=True)
    assert "Sign-in is paused" in page
    token = csrf_token(admin, "/console/absences")
    response = admin.post(f"/console/admin/agents/{org.dana.id}/unlock", data={"csrf_token": token})
    assert response.status_code == 303
    assert sign_in(app.test_client(), org.dana.email)[0] == 303
    [entry] = audit(org, AuditAction.AGENT_UNLOCKED)
    assert (entry.actor_id, entry.target_id) == (org.ada.id, org.dana.id)
    assert entry.before == {"paused_clients": 1}


def test_only_admins_unlock(web: tuple[Flask, Org]) -> None:
    app, org = web
    agent = signed_in(app, org, "lee")
    token = csrf_token(agent, "/console/absences")
    response = agent.post(f"/console/admin/agents/{org.dana.id}/unlock", data={"csrf_token": token})
    assert response.status_code == 403
    assert audit(org, AuditAction.AGENT_UNLOCKED) == []


# --- password reset by mail --------------------------------------------------------------


@pytest.fixture
def mailing(make_app: AppFactory, inbox: tuple[Inbox, int]) -> tuple[Flask, Org]:
    app = make_app(smtp_host="127.0.0.1", smtp_port=inbox[1])
    return app, build_org(spoc_of(app))


def ask_for_reset(client: FlaskClient, email: str) -> str:
    token = csrf_token(client, "/console/forgot")
    response = client.post("/console/forgot", data={"csrf_token": token, "email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def set_password(client: FlaskClient, link: str, password: str) -> int:
    token = csrf_token(client, "/console/login")
    data = {"csrf_token": token, "new_password": password, "confirm_password": password}
    return client.post(link, data=data).status_code


def test_reset_link_sets_a_password_once_and_signs_out_everywhere(
    mailing: tuple[Flask, Org], inbox: tuple[Inbox, int]
) -> None:
    app, org = mailing
    old_session = signed_in(app, org)
    client = app.test_client()
    known = ask_for_reset(client, org.dana.email)
    unknown = ask_for_reset(client, "nobody@example.org")
    assert known == unknown  # the same answer whether or not the address has an account
    org.spoc.outbox.deliver_due()
    [mail] = inbox[0].to(org.dana.email)
    assert mail["Subject"] == "Set a new password"
    assert inbox[0].to("nobody@example.org") == []
    link = inbox[0].link()
    assert link.startswith("/console/reset/")
    assert client.get(link).status_code == 200
    assert set_password(client, link, NEW_PASSWORD) == 303
    assert old_session.get("/console/queues/mine").status_code == 303
    assert sign_in(app.test_client(), org.dana.email, NEW_PASSWORD)[0] == 303
    # A second use of the same link fails and changes nothing.
    assert client.get(link).status_code == 404
    assert set_password(client, link, "yet another long passphrase") == 404
    assert sign_in(app.test_client(), org.dana.email, NEW_PASSWORD)[0] == 303
    [entry] = audit(org, AuditAction.PASSWORD_CHANGED)
    assert entry.after == {"how": "reset by mailed link"}


def test_reset_link_expires(
    mailing: tuple[Flask, Org], inbox: tuple[Inbox, int], clock: FrozenClock
) -> None:
    app, org = mailing
    client = app.test_client()
    ask_for_reset(client, org.dana.email)
    org.spoc.outbox.deliver_due()
    link = inbox[0].link()
    clock.advance(timedelta(minutes=31))
    assert set_password(client, link, NEW_PASSWORD) == 404
    assert audit(org, AuditAction.PASSWORD_CHANGED) == []


def test_reset_refuses_a_short_password_naming_the_field(
    mailing: tuple[Flask, Org], inbox: tuple[Inbox, int]
) -> None:
    app, org = mailing
    client = app.test_client()
    ask_for_reset(client, org.dana.email)
    org.spoc.outbox.deliver_due()
    link = inbox[0].link()
    assert set_password(client, link, "short") == 422
    assert set_password(client, link, NEW_PASSWORD) == 303  # the link was not used up
