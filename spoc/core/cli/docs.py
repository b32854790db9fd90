"""Generated documentation: the hook and services references."""

from __future__ import annotations

from pathlib import Path

import click

from spoc.core.cli.base import main
from spoc.core.cli.servicedoc import render_services_reference
from spoc.core.platform.hookdoc import render_hook_reference


@main.group()
def docs() -> None:
    """Generated documentation."""


def _write_or_check(output: Path, text: str, command: str, check: bool) -> None:
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{output} is stale; run: spoc docs {command}")
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}")


@docs.command("hooks")
@click.option("--output", type=click.Path(path_type=Path), default=Path("docs/hooks.md"))
@click.option("--check", is_flag=True, help="Fail if the file is not what would be generated.")
def docs_hooks(output: Path, check: bool) -> None:
    """Write the hook reference generated from spoc/core/platform/hookspecs.py."""
    _write_or_check(output, render_hook_reference(), "hooks", check)


@docs.command("services")
@click.option("--output", type=click.Path(path_type=Path), default=Path("docs/services.md"))
@click.option("--check", is_flag=True, help="Fail if the file is not what would be generated.")
def docs_services(output: Path, check: bool) -> None:
    """Write the services reference generated from the Spoc container's docstrings."""
    _write_or_check(output, render_services_reference(), "services", check)
