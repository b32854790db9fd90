"""The ``spoc`` command line.

Core commands are defined here; enabled plugins add theirs through ``spoc_cli_commands``.
A start-up problem (bad settings, broken plugin, database behind) prints one line and exits 1.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask

from spoc.core.kernel.errors import SpocError, StartupError
from spoc.core.kernel.types import Role


def _build_app(**overrides: Any) -> Flask:
    from spoc.core.app import create_app

    try:
        app = create_app(**overrides)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    context = click.get_current_context(silent=True)
    if context is not None:
        # Close pooled connections when the command ends, not whenever GC gets to them.
        context.call_on_close(_spoc(app).db.dispose)
    return app


def _spoc(app: Flask) -> Any:
    from spoc.core.services import spoc_of

    return spoc_of(app)


class SpocGroup(click.Group):
    """Core commands, plus the commands of enabled plugins (loaded only when asked for)."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        app = ctx.meta.get("spoc.app")
        if app is None:
            try:
                app = _build_app()
            except click.ClickException:
                return {}
            ctx.meta["spoc.app"] = app
            ctx.with_resource(app.app_context())
        return {cmd.name: cmd for _, cmd in _spoc(app).host.cli_commands if cmd.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)


@click.group(cls=SpocGroup)
@click.version_option(package_name="spoc")
def main() -> None:
    """SPOC: one accountable contact for every request."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the latest schema (core and enabled plugins)."""
    app = _build_app()
    spoc = _spoc(app)
    spoc.upgrade_database()
    click.echo(f"Database is up to date: {spoc.db.engine.url.render_as_string(hide_password=True)}")


@main.command()
def plugins() -> None:
    """List installed plugins, whether enabled, their version and hooks."""
    app = _build_app()
    rows = [("NAME", "ENABLED", "VERSION", "SOURCE", "HOOKS")]
    for info in _spoc(app).host.plugins:
        source = "bundled" if info.bundled else info.distribution
        hooks = ", ".join(h.removeprefix("spoc_") for h in info.hooks) if info.enabled else "-"
        rows.append((info.name, "yes" if info.enabled else "no", info.version, source, hooks))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4])


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name shown to colleagues and requesters.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.AGENT.value,
    show_default=True,
)
@click.password_option(help="At least 12 characters; prompted for when not given.")
def user_add(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account."""
    app = _build_app()
    try:
        agent = _spoc(app).directory.add_agent(email=email, name=name, role=role, password=password)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {agent.role.value} {agent.name} <{agent.email}>")


@user.command("unlock")
@click.argument("email")
def user_unlock(email: str) -> None:
    """Forget failed sign-ins for EMAIL and lift any pause (audited, as the system)."""
    from spoc.core.kernel.types import Actor

    spoc = _ready_spoc()
    agent = _staff_account(spoc, email)
    try:
        paused = spoc.auth.unlock(Actor.system(), agent.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Unlocked {agent.email} (was paused from {paused} client(s))")


@user.command("reset-2fa")
@click.argument("email")
def user_reset_two_factor(email: str) -> None:
    """Turn off EMAIL's two-factor and sign them out everywhere (audited, as the system): for
    the last admin who lost both phone and recovery codes."""
    from spoc.core.kernel.types import Actor

    spoc = _ready_spoc()
    agent = _staff_account(spoc, email)
    try:
        was_on = spoc.two_factor.reset(Actor.system(), agent.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Two-factor of {agent.email} {'reset' if was_on else 'was off; nothing to reset'}")


def _staff_account(spoc: Any, email: str) -> Any:
    agent = spoc.directory.agent_by_email(email)
    if agent is None:
        raise click.ClickException(f"no staff account {email}")
    return agent


def _ready_spoc(app: Flask | None = None) -> Any:
    """The app's Spoc, refusing (one line, exit 1) a database that is behind."""
    spoc = _spoc(app or _build_app())
    try:
        spoc.check_database()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    return spoc


def _serve(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    in_each_worker: Callable[[], None] | None = None,
) -> None:
    """gunicorn, forking ``workers`` processes. ``in_each_worker`` runs in each of them once
    it has started (the demo's sweep-and-deliver thread lives there, next to the requests)."""
    from gunicorn.app.base import BaseApplication

    # No database connection may cross the fork: SQLite keeps per-process lock bookkeeping,
    # and a child that inherits a connection the parent was using sees "database is locked"
    # for ever. Close them all here; each worker opens its own pool.
    _spoc(app).db.engine.dispose()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            # Which worker answered (pid=...): per-worker state shows up in the log.
            self.cfg.set(
                "access_log_format",
                '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" pid=%(p)s',
            )
            self.cfg.set("logger_class", "spoc.core.web.serverlog.RedactingLogger")
            # Connections opened before the fork belong to the parent: the worker starts its
            # own pool (SQLAlchemy's advice for forking servers).
            self.cfg.set(
                "post_fork", lambda server, worker: _spoc(app).db.engine.dispose(close=False)
            )
            if in_each_worker is not None:
                self.cfg.set("post_worker_init", lambda worker: in_each_worker())

        def load(self) -> Flask:
            return app

    _Server().run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn (refuses a database that is behind)."""
    app = _build_app()
    _ready_spoc(app)
    _serve(app, host, port, workers)


@main.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
def demo(port: int, no_serve: bool) -> None:
    """Build a fresh demo database, print the demo logins, and serve on 127.0.0.1."""
    from spoc.core.domain.demo import seed
    from spoc.core.platform.settings import load_settings

    try:
        base = load_settings(env="demo")
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    instance = (base.instance_path or Path("instance")).resolve()
    demo_dir = instance / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    app = _build_app(
        env="demo", instance_path=instance, database_url=f"sqlite:///{demo_dir / 'demo.sqlite'}"
    )
    spoc = _spoc(app)
    spoc.upgrade_database()
    context = seed(spoc)
    click.echo("Demo database ready. Staff logins (passwords are new on every run):")
    for key, agent in context.agents.items():
        click.echo(f"  {agent.role.value:<10} {agent.email:<28} {context.passwords[key]}")
    if no_serve:
        return
    # The demo runs its own worker, so SLA warnings and notifications happen as in production.
    # It starts inside the (single) gunicorn worker process, after the fork.
    import threading
    from datetime import timedelta

    from spoc.core.services import run_forever

    def start_worker() -> None:
        threading.Thread(
            target=run_forever,
            args=(spoc, timedelta(seconds=30)),
            name="spoc-worker",
            daemon=True,
        ).start()

    click.echo(f"Serving on http://127.0.0.1:{port}/ with a worker every 30 s  (Ctrl+C stops)")
    sys.stdout.flush()
    _serve(app, "127.0.0.1", port, 1, in_each_worker=start_worker)


@main.command()
@click.option("--limit", type=click.IntRange(1, 100_000), default=None, help="Batch size.")
def sweep(limit: int | None) -> None:
    """One pass over the requests that are due: warn, breach, escalate, close."""
    spoc = _ready_spoc()
    click.echo(f"Sweep: {spoc.sweep(limit)}")


@main.command()
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option("--passes", default=None, type=click.IntRange(1), help="Stop after N passes.")
def worker(interval: float, passes: int | None) -> None:
    """Sweep and deliver notifications in a loop; safe to run on several machines at once."""
    from datetime import timedelta

    from spoc.core.services import run_forever

    spoc = _ready_spoc()
    click.echo(f"Worker started: a pass every {interval:g} s (Ctrl+C stops)")
    run_forever(spoc, timedelta(seconds=interval), passes)


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("agent_email")
@click.option("--name", required=True, help="What the token is for, e.g. 'EHR integration'.")
def token_create(agent_email: str, name: str) -> None:
    """Create a token that acts as the agent; the secret is shown once."""
    from spoc.core.kernel.types import Actor

    try:
        created, secret = _ready_spoc().tokens.create(Actor.system("cli"), agent_email, name)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {created.id} for {agent_email}: {secret}")
    click.echo("Keep it safe: it is not stored and cannot be shown again.")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from spoc.core.kernel.types import Actor

    try:
        _ready_spoc().tokens.revoke(Actor.system("cli"), token_id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {token_id} revoked.")


@token.command("list")
def token_list() -> None:
    """Tokens, newest first (never their secrets)."""
    for created, agent in _ready_spoc().tokens.list():
        state = "revoked" if created.revoked_at else "active"
        used = created.last_used_at.strftime("%Y-%m-%d %H:%M") if created.last_used_at else "never"
        click.echo(f"{created.id:>5}  {state:<8} {agent.email:<30} {created.name:<30} used {used}")


@main.group()
def outbox() -> None:
    """Notifications waiting, sent or dead."""


@outbox.command("deliver")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
def outbox_deliver(limit: int) -> None:
    """Deliver what is due now (one pass)."""
    click.echo(f"Outbox: {_ready_spoc().outbox.deliver_due(limit)}")


@outbox.command("dead")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def outbox_dead(limit: int) -> None:
    """List dead-lettered messages, newest first."""
    from sqlalchemy import select

    from spoc.core.domain.models import OutboxMessage

    spoc = _ready_spoc()
    with spoc.db.reader() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        ).all()
    if not rows:
        click.echo("No dead messages.")
    for row in rows:
        click.echo(f"{row.id:>6}  {row.channel:<8} {row.recipient:<32} {row.last_error or ''}")


@outbox.command("retry")
@click.argument("message_id", type=int)
def outbox_retry(message_id: int) -> None:
    """Send a dead message again."""
    if not _ready_spoc().outbox.retry(message_id):
        raise click.ClickException(f"message {message_id} is not dead (or does not exist)")
    click.echo(f"Message {message_id} will be sent at the next delivery.")


@main.group()
def docs() -> None:
    """Generated documentation."""


@docs.command("hooks")
@click.option("--output", type=click.Path(path_type=Path), default=Path("docs/hooks.md"))
@click.option("--check", is_flag=True, help="Fail if the file is not what would be generated.")
def docs_hooks(output: Path, check: bool) -> None:
    """Write the hook reference generated from spoc/core/platform/hookspecs.py."""
    from spoc.core.platform.hookdoc import render_hook_reference

    text = render_hook_reference()
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{output} is stale; run: spoc docs hooks")
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}")


@main.group()
def contact() -> None:
    """A contact's data: export it, or erase it (anonymise and keep the figures)."""


def _contact_admin(spoc: Any, email: str) -> Any:
    from spoc.core.kernel.types import Actor

    agent = spoc.directory.agent_by_email(email)
    if agent is None or agent.role is not Role.ADMIN or not agent.active:
        raise click.ClickException(f"{email} is not an active administrator")
    return Actor.agent(agent.id, agent.role, agent.name)


@contact.command("export")
@click.argument("email")
@click.option("--admin", "admin_email", required=True, help="Administrator doing this.")
@click.option("--output", type=click.File("w"), default="-")
def contact_export(email: str, admin_email: str, output: Any) -> None:
    """Everything held about the contact with this address, as JSON."""
    import json

    spoc = _ready_spoc()
    actor = _contact_admin(spoc, admin_email)
    try:
        found = spoc.privacy.find_contact(email)
        document = spoc.privacy.export_contact(actor, found.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    output.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


@contact.command("erase")
@click.argument("email")
@click.option("--admin", "admin_email", required=True, help="Administrator doing this.")
@click.option("--reason", required=True, help="Why (kept in the admin audit trail).")
@click.confirmation_option(prompt="This cannot be undone. Erase the contact?")
def contact_erase(email: str, admin_email: str, reason: str) -> None:
    """Anonymise the contact and what they said; counts, times and types stay."""
    spoc = _ready_spoc()
    actor = _contact_admin(spoc, admin_email)
    try:
        found = spoc.privacy.find_contact(email)
        count = spoc.privacy.erase_contact(actor, found.id, reason=reason)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Contact {found.id} erased ({count} requests anonymised).")
