"""The ``spoc`` command group and what its commands share: building the app from the
environment, and refusing (one line, exit 1) a start-up problem or a database that is behind.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from spoc.core.kernel.errors import StartupError
from spoc.core.services import spoc_of


def build_app(*, web: bool = True, **overrides: Any) -> Flask:
    """The app from the environment; ``web=False`` for commands that serve no page (the
    services and plugins only, no views: see ``create_app``)."""
    # Imported here to keep start-up light: commands that build no app (`spoc --version`,
    # `spoc new-plugin`) do not need the factory.
    from spoc.core.app import create_app

    try:
        app = create_app(web=web, **overrides)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    context = click.get_current_context(silent=True)
    if context is not None:
        # Close pooled connections when the command ends, not whenever GC gets to them.
        context.call_on_close(services_of(app).db.dispose)
    return app


def services_of(app: Flask) -> Any:
    return spoc_of(app)


class SpocGroup(click.Group):
    """Core commands, plus the commands of enabled plugins (loaded only when asked for)."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        app = ctx.meta.get("spoc.app")
        if app is None:
            try:
                # Plugins' commands serve no page: the services are enough.
                app = build_app(web=False)
            except click.ClickException:
                return {}
            ctx.meta["spoc.app"] = app
            ctx.with_resource(app.app_context())
        return {cmd.name: cmd for _, cmd in services_of(app).host.cli_commands if cmd.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)


@click.group(cls=SpocGroup)
@click.version_option(package_name="spoc")
def main() -> None:
    """SPOC: one accountable contact for every request."""


def staff_account(spoc: Any, email: str) -> Any:
    agent = spoc.directory.agent_by_email(email)
    if agent is None:
        raise click.ClickException(f"no staff account {email}")
    return agent


def ready_spoc(app: Flask | None = None) -> Any:
    """The app's Spoc, refusing (one line, exit 1) a database that is behind."""
    spoc = services_of(app or build_app(web=False))
    try:
        spoc.check_database()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    return spoc
