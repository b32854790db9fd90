"""TOTP two-factor in the console: enrolment from the account page, the code after the
password, replay and recovery codes, turning it off, an admin's reset, required for admins."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.test import TestResponse

from spoc import FrozenClock
from spoc.core.domain.audit import AuditAction
from spoc.core.domain.models import AdminAuditEntry, Agent
from tests.conftest import PASSWORD, AppFactory, Org, build_org, csrf_token, give_password
from tests.core.web.console.test_auth_accounts import sign_in, signed_in


def post(
    client: FlaskClient, url: str, data: dict[str, str], page: str = "/console/account"
) -> TestResponse:
    token = csrf_token(client, page)
    return client.post(url, data={"csrf_token": token, **data})


def enrol(client: FlaskClient, clock: FrozenClock) -> tuple[str, list[str]]:
    """Set up two-factor from the account page; returns the secret and the recovery codes."""
    assert post(client, "/console/account/two-factor/start", {}).status_code == 303
    page = client.get("/console/account").get_data(as_text=True)
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert found, page
    secret = found.group(1)
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    done = post(client, "/console/account/two-factor/confirm", {"code": code_now(secret, clock)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    clock.advance(timedelta(seconds=30))  # the code just used is spent for its step
    return secret, codes


def code_now(secret: str, clock: FrozenClock) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def password_step(client: FlaskClient, email: str, ip: str = "127.0.0.1") -> int:
    status, _ = sign_in(client, email, ip=ip)
    return status


def code_step(client: FlaskClient, code: str, ip: str = "127.0.0.1") -> TestResponse:
    token = csrf_token(client, "/console/login/code")
    return client.post(
        "/console/login/code",
        data={"csrf_token": token, "code": code},
        environ_base={"REMOTE_ADDR": ip},
    )


def audit(org: Org, action: str) -> list[AdminAuditEntry]:
    with org.spoc.db.reader() as db:
        return list(db.scalars(select(AdminAuditEntry).where(AdminAuditEntry.action == action)))


@pytest.fixture
def web(app: Flask, org: Org) -> tuple[Flask, Org]:
    return app, org


def test_enrolled_agent_signs_in_only_with_password_and_current_code(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    secret, _ = enrol(signed_in(app, org), clock)
    client = app.test_client()
    assert password_step(client, org.dana.email) == 303
    # The password alone opens nothing: the console still sends to sign-in.
    assert client.get("/console/queues/mine").status_code == 303
    assert client.get("/console/queues/mine").headers["Location"].startswith("/console/login")
    done = code_step(client, code_now(secret, clock))
    assert done.status_code == 303
    assert client.get("/console/queues/mine").status_code == 200
    [entry] = audit(org, AuditAction.TWO_FACTOR_ENROLLED)
    assert entry.target_id == org.dana.id and entry.after == {
        "two_factor": True,
        "recovery_codes": 10,
    }


def test_wrong_code_is_refused_and_counts_towards_the_sign_in_pause(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    secret, _ = enrol(signed_in(app, org), clock)
    client = app.test_client()
    assert password_step(client, org.dana.email) == 303
    refused = code_step(client, "000000" if code_now(secret, clock) != "000000" else "111111")
    assert refused.status_code == 401
    assert "not right" in refused.get_data(as_text=True)
    assert client.get("/console/queues/mine").status_code == 303
    # Four more wrong codes (each after a right password again) pause the pair...
    for _ in range(4):
        assert password_step(client, org.dana.email) == 303
        code_step(client, "999999" if code_now(secret, clock) != "999999" else "888888")
    # ...so now even the right password and the right code are refused.
    assert password_step(client, org.dana.email) == 401
    assert org.spoc.auth.is_paused(org.dana.email)


def test_code_of_a_step_already_used_is_refused(web: tuple[Flask, Org], clock: FrozenClock) -> None:
    app, org = web
    secret, _ = enrol(signed_in(app, org), clock)
    first = app.test_client()
    assert password_step(first, org.dana.email) == 303
    code = code_now(secret, clock)
    assert code_step(first, code).status_code == 303
    clock.advance(timedelta(seconds=5))  # same 30-second step
    second = app.test_client()
    assert password_step(second, org.dana.email) == 303
    assert code_step(second, code).status_code == 401
    assert second.get("/console/queues/mine").status_code == 303
    clock.advance(timedelta(seconds=30))
    assert code_step(second, code_now(secret, clock)).status_code == 303


def test_pending_sign_in_expires_after_a_few_minutes(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    secret, _ = enrol(signed_in(app, org), clock)
    client = app.test_client()
    assert password_step(client, org.dana.email) == 303
    clock.advance(timedelta(minutes=5, seconds=1))
    token = csrf_token(client, "/console/login")
    late = client.post(
        "/console/login/code", data={"csrf_token": token, "code": code_now(secret, clock)}
    )
    assert late.status_code == 303 and late.headers["Location"].startswith("/console/login")
    assert client.get("/console/queues/mine").status_code == 303


def test_recovery_code_signs_in_once_and_is_audited(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    _, codes = enrol(signed_in(app, org), clock)
    client = app.test_client()
    assert password_step(client, org.dana.email) == 303
    assert code_step(client, codes[3].upper()).status_code == 303  # case and dashes forgiven
    assert client.get("/console/queues/mine").status_code == 200
    again = app.test_client()
    assert password_step(again, org.dana.email) == 303
    assert code_step(again, codes[3]).status_code == 401
    [entry] = audit(org, AuditAction.TWO_FACTOR_RECOVERY_USED)
    assert entry.actor_id == org.dana.id and entry.after == {"recovery_codes": 9}
    assert org.spoc.two_factor.status(org.dana.id).recovery_codes_left == 9


def test_secret_and_recovery_codes_are_not_in_clear_in_the_database(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    secret, codes = enrol(signed_in(app, org), clock)
    with org.spoc.db.reader() as db:
        stored = [
            " ".join(str(v) for v in row)
            for table in ("agent_two_factor", "agent_recovery_codes", "agents")
            for row in db.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
        ]
    dump = "\n".join(stored)
    assert secret not in dump and secret.lower() not in dump
    assert not any(code in dump or code.replace("-", "") in dump for code in codes)
    assert "sealed:v1:" in dump


def test_agent_turns_two_factor_off_with_password_and_code(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    client = signed_in(app, org)
    secret, _ = enrol(client, clock)
    wrong = post(
        client,
        "/console/account/two-factor/disable",
        {"password": "not the password at all", "code": code_now(secret, clock)},
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert org.spoc.two_factor.is_enrolled(org.dana.id)
    done = post(
        client,
        "/console/account/two-factor/disable",
        {"password": PASSWORD, "code": code_now(secret, clock)},
    )
    assert done.status_code == 303
    assert not org.spoc.two_factor.is_enrolled(org.dana.id)
    assert len(audit(org, AuditAction.TWO_FACTOR_DISABLED)) == 1
    assert password_step(app.test_client(), org.dana.email) == 303
    # No code asked any more: the password alone signs in again.
    again = app.test_client()
    sign_in(again, org.dana.email)
    assert again.get("/console/queues/mine").status_code == 200


def test_admin_resets_a_lost_phone_and_the_agent_is_signed_out(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    dana = signed_in(app, org)
    enrol(dana, clock)
    admin = signed_in(app, org, "ada")
    page = f"/console/admin/agents/{org.dana.id}"
    assert "Two-factor is on" in admin.get(page).get_data(as_text=True)
    done = post(admin, f"{page}/two-factor/reset", {}, page=page)
    assert done.status_code == 303
    assert not org.spoc.two_factor.is_enrolled(org.dana.id)
    assert dana.get("/console/queues/mine").status_code == 303  # signed out everywhere
    [entry] = audit(org, AuditAction.TWO_FACTOR_RESET)
    assert entry.actor_id == org.ada.id and entry.target_id == org.dana.id
    # A non-admin cannot reset anyone.
    lee = signed_in(app, org, "lee")
    refused = post(lee, f"/console/admin/agents/{org.ada.id}/two-factor/reset", {})
    assert refused.status_code == 403


def test_admin_without_two_factor_is_sent_to_enrolment_when_required(
    make_app: AppFactory, clock: FrozenClock
) -> None:
    app = make_app(require_2fa_for_admins=True)
    from spoc.core.services import spoc_of

    org = build_org(spoc_of(app))
    admin = signed_in(app, org, "ada")
    for page in ("/console/queues/mine", "/console/admin/agents", "/console/admin/audit"):
        sent = admin.get(page)
        assert sent.status_code == 303, page
        assert sent.headers["Location"] == "/console/account"
    assert "asks admins to turn on two-factor" in admin.get("/console/account").get_data(
        as_text=True
    )
    # Other roles are not asked.
    assert signed_in(app, org, "dana").get("/console/queues/mine").status_code == 200
    enrol(admin, clock)
    assert admin.get("/console/admin/agents").status_code == 200


def test_two_factor_is_off_for_admins_by_default(web: tuple[Flask, Org]) -> None:
    app, org = web
    assert signed_in(app, org, "ada").get("/console/admin/agents").status_code == 200


def test_wrong_code_at_enrolment_leaves_two_factor_off(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    client = signed_in(app, org)
    assert post(client, "/console/account/two-factor/start", {}).status_code == 303
    refused = post(client, "/console/account/two-factor/confirm", {"code": "12345x"})
    assert refused.status_code == 422
    assert "not the code your authenticator shows" in refused.get_data(as_text=True)
    assert not org.spoc.two_factor.is_enrolled(org.dana.id)
    assert audit(org, AuditAction.TWO_FACTOR_ENROLLED) == []
    with org.spoc.db.reader() as db:
        assert db.get(Agent, org.dana.id) is not None
    give_password(org.spoc, org.dana)
    fresh = app.test_client()
    sign_in(fresh, org.dana.email)
    assert fresh.get("/console/queues/mine").status_code == 200


def test_admin_cannot_reset_their_own_two_factor_around_password_and_code(
    web: tuple[Flask, Org], clock: FrozenClock
) -> None:
    app, org = web
    admin = signed_in(app, org, "ada")
    enrol(admin, clock)
    page = f"/console/admin/agents/{org.ada.id}"
    assert "Reset two-factor" not in admin.get(page).get_data(as_text=True)
    post(admin, f"{page}/two-factor/reset", {}, page=page)
    assert org.spoc.two_factor.is_enrolled(org.ada.id)
    assert audit(org, AuditAction.TWO_FACTOR_RESET) == []
