"""Running SPOC: the schema, plugins, serving, the demo, the sweep and the outbox."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from spoc.core.cli.base import build_app, main, ready_spoc, services_of
from spoc.core.cli.mail import worker_mail_tasks
from spoc.core.domain.demo import seed
from spoc.core.domain.models import OutboxMessage
from spoc.core.kernel.errors import StartupError
from spoc.core.mail.lmtp import mail_server
from spoc.core.mail.sink import mail_sink
from spoc.core.platform.settings import load_settings
from spoc.core.services import run_forever


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the latest schema (core and enabled plugins)."""
    app = build_app()
    spoc = services_of(app)
    spoc.upgrade_database()
    click.echo(f"Database is up to date: {spoc.db.engine.url.render_as_string(hide_password=True)}")


@main.command()
def plugins() -> None:
    """List installed plugins, whether enabled, their version and hooks."""
    app = build_app()
    rows = [("NAME", "ENABLED", "VERSION", "SOURCE", "HOOKS")]
    for info in services_of(app).host.plugins:
        source = "bundled" if info.bundled else info.distribution
        hooks = ", ".join(h.removeprefix("spoc_") for h in info.hooks) if info.enabled else "-"
        rows.append((info.name, "yes" if info.enabled else "no", info.version, source, hooks))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4])


def _serve(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    in_each_worker: Callable[[], None] | None = None,
) -> None:
    """gunicorn, forking ``workers`` processes. ``in_each_worker`` runs in each of them once
    it has started (the demo's sweep-and-deliver thread lives there, next to the requests)."""
    # Imported here to keep start-up light: only `spoc serve` and `spoc demo` load gunicorn.
    from gunicorn.app.base import BaseApplication

    # No database connection may cross the fork: SQLite keeps per-process lock bookkeeping,
    # and a child that inherits a connection the parent was using sees "database is locked"
    # for ever. Close them all here; each worker opens its own pool.
    services_of(app).db.engine.dispose()

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
                "post_fork", lambda server, worker: services_of(app).db.engine.dispose(close=False)
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
    app = build_app()
    ready_spoc(app)
    _serve(app, host, port, workers)


@main.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
def demo(port: int, no_serve: bool) -> None:
    """Build a fresh demo database, print the demo logins, and serve on 127.0.0.1."""
    try:
        base = load_settings(env="demo")
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    instance = (base.instance_path or Path("instance")).resolve()
    demo_dir = instance / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    # The demo's mail: SPOC sends to a sink on the console (Admin -> Demo mailbox), and
    # "reply as the requester" answers through a real LMTP server, both in the worker.
    sink_port, inbound_port = _free_port(), _free_port()
    app = build_app(
        env="demo",
        instance_path=instance,
        database_url=f"sqlite:///{demo_dir / 'demo.sqlite'}",
        smtp_host="127.0.0.1",
        smtp_port=sink_port,
        demo_mailbox=demo_dir / "mail",
        demo_inbound_port=inbound_port,
    )
    spoc = services_of(app)
    spoc.upgrade_database()
    context = seed(spoc)
    click.echo("Demo database ready. Staff logins (passwords are new on every run):")
    for key, agent in context.agents.items():
        click.echo(f"  {agent.role.value:<10} {agent.email:<28} {context.passwords[key]}")
    if no_serve:
        return

    # The demo runs its own worker, so SLA warnings and notifications happen as in production.
    # It starts inside the (single) gunicorn worker process, after the fork.
    def start_worker() -> None:
        settings = spoc.settings
        mail_sink(demo_dir / "mail", sink_port).start()
        mail_server(spoc.mail, port=inbound_port, max_bytes=settings.mail_max_bytes).start()
        threading.Thread(
            target=run_forever,
            args=(spoc, timedelta(seconds=30)),
            name="spoc-worker",
            daemon=True,
        ).start()

    click.echo(
        "Mail SPOC sends is kept in the demo mailbox (console, Admin, Demo mailbox); "
        f"mail in: LMTP on 127.0.0.1:{inbound_port}"
    )
    click.echo(f"Serving on http://127.0.0.1:{port}/ with a worker every 30 s  (Ctrl+C stops)")
    sys.stdout.flush()
    _serve(app, "127.0.0.1", port, 1, in_each_worker=start_worker)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@main.command()
@click.option("--limit", type=click.IntRange(1, 100_000), default=None, help="Batch size.")
def sweep(limit: int | None) -> None:
    """One pass over the requests that are due: warn, breach, escalate, close."""
    spoc = ready_spoc()
    click.echo(f"Sweep: {spoc.sweep(limit)}")


@main.command()
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option("--passes", default=None, type=click.IntRange(1), help="Stop after N passes.")
@click.option(
    "--lmtp",
    "lmtp",
    default=None,
    metavar="HOST:PORT",
    help="Also take mail by LMTP here (as `spoc mail serve`), in this process.",
)
def worker(interval: float, passes: int | None, lmtp: str | None) -> None:
    """Sweep, deliver notifications and fetch mail in a loop; safe to run on several machines
    at once. With --lmtp it also serves LMTP for the mail server to deliver to."""
    spoc = ready_spoc()
    mail_tasks = worker_mail_tasks(spoc)
    server = None
    if lmtp is not None:
        host, _, port = lmtp.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter("write HOST:PORT, e.g. 127.0.0.1:8024", param_hint="--lmtp")
        spoc.mail.check_types()
        server = mail_server(
            spoc.mail,
            host=host or "127.0.0.1",
            port=int(port),
            max_bytes=spoc.settings.mail_max_bytes,
        )
        server.start()
        click.echo(f"Taking mail by LMTP on {host or '127.0.0.1'}:{port}")
    click.echo(f"Worker started: a pass every {interval:g} s (Ctrl+C stops)")
    try:
        run_forever(spoc, timedelta(seconds=interval), passes, also=mail_tasks)
    finally:
        if server is not None:
            server.stop()


@main.group()
def outbox() -> None:
    """Notifications waiting, sent or dead."""


@outbox.command("deliver")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
def outbox_deliver(limit: int) -> None:
    """Deliver what is due now (one pass)."""
    click.echo(f"Outbox: {ready_spoc().outbox.deliver_due(limit)}")


@outbox.command("dead")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def outbox_dead(limit: int) -> None:
    """List dead-lettered messages, newest first."""
    spoc = ready_spoc()
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
    if not ready_spoc().outbox.retry(message_id):
        raise click.ClickException(f"message {message_id} is not dead (or does not exist)")
    click.echo(f"Message {message_id} will be sent at the next delivery.")
