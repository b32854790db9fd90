"""The ``spoc`` command line, run the way an operator runs it (settings from the environment)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from spoc import create_app
from spoc.core.cli import main
from spoc.core.domain.models import Agent, Request
from spoc.core.kernel.passwords import verify_password
from spoc.core.kernel.types import Status
from spoc.core.platform.plugins import installed_entry_points
from spoc.core.services import spoc_of


def run(env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=input)
    return result.exit_code, result.output


def test_db_upgrade_then_user_add(env: dict[str, str]) -> None:
    code, output = run(env, "db", "upgrade")
    assert code == 0, output
    assert "Database is up to date" in output
    code, output = run(
        env,
        "user",
        "add",
        "Lee@Example.org",
        "--name",
        "Lee Chen",
        "--role",
        "specialist",
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert code == 0, output
    assert "Created specialist Lee Chen <lee@example.org>" in output
    app = create_app(env="dev", database_url=env["SPOC_DATABASE_URL"], plugins=["generic"])
    with spoc_of(app).db.reader() as session:
        agent = session.scalar(select(Agent))
    assert agent is not None and verify_password(agent.password_hash, "correct horse battery")
    code, output = run(
        env, "user", "add", "lee@example.org", "--name", "Lee", "--password", "another long one"
    )
    assert code == 1
    assert "already exists" in output


def test_user_add_refuses_a_short_password(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    code, output = run(env, "user", "add", "a@example.org", "--name", "A", "--password", "short")
    assert code == 1
    assert "at least 12 characters" in output


def test_plugins_lists_installed_and_enabled(env: dict[str, str]) -> None:
    code, output = run(env, "plugins")
    assert code == 0, output
    lines = {line.split()[0]: line for line in output.splitlines()[1:]}
    assert lines["generic"].split()[1:4] == ["yes", "0.1.0", "bundled"]
    assert "request_types" in lines["generic"]
    assert lines["facilities"].split()[1:4] == ["no", "1.0.0", "spoc-facilities"]


def test_broken_setup_prints_one_line_and_exits_1(env: dict[str, str]) -> None:
    code, output = run({**env, "SPOC_PLUGINS": "generic,ghost"}, "plugins")
    assert code == 1
    installed = ", ".join(sorted(ep.name for ep in installed_entry_points()))
    assert "generic" in installed and "facilities" in installed
    assert output.strip().splitlines() == [
        "Error: plugin 'ghost': is enabled in SPOC_PLUGINS but not installed "
        f"(installed: {installed})"
    ]
    code, output = run({**env, "SPOC_ENV": "production"}, "plugins")
    assert code == 1
    assert "SPOC_SECRET_KEY is not set" in output


def test_serve_refuses_a_database_that_is_behind(env: dict[str, str]) -> None:
    code, output = run(env, "serve", "--port", "0")
    assert code == 1
    assert "not up to date (core behind); run: spoc db upgrade" in output


def test_hook_demo_data_builds_requests_in_every_status(env: dict[str, str]) -> None:
    code, output = run(env, "demo", "--no-serve")
    assert code == 0, output
    assert "admin      ada@demo.spoc.invalid" in output
    demo_db = Path(env["SPOC_INSTANCE_PATH"]) / "demo" / "demo.sqlite"
    app = create_app(env="demo", database_url=f"sqlite:///{demo_db}", plugins=["generic"])
    with spoc_of(app).db.reader() as session:
        statuses = set(session.scalars(select(Request.status).distinct()))
        escalated = session.scalar(
            select(func.count()).select_from(Request).where(Request.escalation_level > 0)
        )
    assert statuses == set(Status)
    assert escalated == 1
    # A second run starts from scratch rather than piling up data.
    code, _ = run(env, "demo", "--no-serve")
    assert code == 0


def test_docs_hooks_check_detects_a_stale_reference(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "hooks.md"
    code, output = run(env, "docs", "hooks", "--check", "--output", str(target))
    assert code == 1 and "is stale" in output
    code, _ = run(env, "docs", "hooks", "--output", str(target))
    assert code == 0
    code, output = run(env, "docs", "hooks", "--check", "--output", str(target))
    assert code == 0 and "up to date" in output


def test_the_demo_serves_and_a_printed_login_signs_in(tmp_path: Path) -> None:
    """What a newcomer does first: ``spoc demo``, then sign in with a printed login. The demo's
    worker thread must live in the serving process; a forked server whose parent was using
    the SQLite database answered every sign-in with "database is locked"."""
    import http.cookiejar
    import os
    import re
    import subprocess
    import sys
    import urllib.parse
    import urllib.request

    from tests.conftest import free_port

    port = free_port()
    environment = {**os.environ, "SPOC_ENV": "demo", "SPOC_PLUGINS": "generic"}
    spoc_script = str(Path(sys.executable).with_name("spoc"))
    server = subprocess.Popen(
        [spoc_script, "demo", "--port", str(port)],
        env=environment,
        cwd=tmp_path,  # the demo database goes to ./instance/demo, as for a newcomer
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        password = ""
        for line in server.stdout:  # read until gunicorn says it listens: no sleeping
            if "dana@demo" in line:
                password = line.split()[-1]
            if "Listening at" in line:
                break
        assert password
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        page = opener.open(f"{base}/console/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "email": "dana@demo.spoc.invalid", "password": password}
        ).encode()
        signed_in = opener.open(f"{base}/console/login", data=form, timeout=10)
        assert signed_in.status == 200
        assert signed_in.url.endswith("/console/queues/mine")
        assert "My requests" in signed_in.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def test_user_unlock_lifts_a_pause_and_is_audited(env: dict[str, str]) -> None:
    from spoc.core.domain.audit import AuditAction
    from spoc.core.domain.models import AdminAuditEntry

    run(env, "db", "upgrade")
    run(env, "user", "add", "ada@example.org", "--name", "Ada", "--password", "a long password!")
    app = create_app(env="dev", database_url=env["SPOC_DATABASE_URL"], plugins=["generic"])
    auth = spoc_of(app).auth
    for _ in range(5):
        auth.login("ada@example.org", "wrong", client="203.0.113.9")
    assert auth.login("ada@example.org", "a long password!", client="203.0.113.9").agent is None
    code, output = run(env, "user", "unlock", "ADA@example.org")
    assert code == 0, output
    assert "Unlocked ada@example.org (was paused from 1 client(s))" in output
    assert auth.login("ada@example.org", "a long password!", client="203.0.113.9").agent
    with spoc_of(app).db.reader() as session:
        actions = list(session.scalars(select(AdminAuditEntry.action)))
    assert AuditAction.AGENT_UNLOCKED in actions
    code, output = run(env, "user", "unlock", "nobody@example.org")
    assert code == 1 and "no staff account nobody@example.org" in output
    spoc_of(app).db.dispose()


def test_user_reset_2fa_turns_two_factor_off_and_is_audited(env: dict[str, str]) -> None:
    import pyotp

    from spoc.core.domain.audit import AuditAction
    from spoc.core.domain.models import AdminAuditEntry
    from spoc.core.kernel.types import Actor, Role

    run(env, "db", "upgrade")
    run(env, "user", "add", "ada@example.org", "--name", "Ada", "--password", "a long password!")
    app = create_app(env="dev", database_url=env["SPOC_DATABASE_URL"], plugins=["generic"])
    spoc = spoc_of(app)
    agent = spoc.directory.agent_by_email("ada@example.org")
    assert agent is not None
    ada = Actor.agent(agent.id, Role(agent.role), agent.name)
    enrolment = spoc.two_factor.start_enrolment(ada)
    spoc.two_factor.confirm_enrolment(ada, pyotp.TOTP(enrolment.secret).now())
    code, output = run(env, "user", "reset-2fa", "ada@example.org")
    assert code == 0, output
    assert "Two-factor of ada@example.org reset" in output
    assert not spoc.two_factor.is_enrolled(agent.id)
    with spoc.db.reader() as session:
        actions = list(session.scalars(select(AdminAuditEntry.action)))
    assert AuditAction.TWO_FACTOR_RESET in actions
    spoc.db.dispose()
