"""The ``spoc`` command, run as an operator would: a fresh app built from the environment."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from spoc.core.cli import main
from spoc.core.services import Spoc


def run_cli(
    spoc: Spoc,
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    runner: CliRunner | None = None,
) -> Result:
    """``spoc <args>`` with the environment of ``spoc``'s app: its database, enabled plugins,
    plugin settings, teams, instance folder and secret key; ``env`` adds or overrides variables."""
    settings = spoc.settings
    variables = {
        "SPOC_ENV": "test",
        "SPOC_DATABASE_URL": spoc.db.url,
        "SPOC_PLUGINS": ",".join(p.name for p in spoc.host.plugins if p.enabled),
        "SPOC_INSTANCE_PATH": str(spoc.instance_path),
        "SPOC_TIMEZONE": settings.timezone,
        "SPOC_CALENDARS": json.dumps(settings.calendars),
        "SPOC_TEAMS": ",".join(settings.teams),
    }
    if settings.secret_key is not None:
        variables["SPOC_SECRET_KEY"] = settings.secret_key.get_secret_value()
    for plugin, section in settings.plugin_settings.items():
        for key, value in section.items():
            text = value if isinstance(value, str) else json.dumps(value)
            variables[f"SPOC_{plugin.upper()}__{key.upper()}"] = text
    variables.update(env or {})
    return (runner or CliRunner()).invoke(main, list(args), env=variables, input=input)
