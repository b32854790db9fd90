"""Subjects in bulk: ``spoc subjects import KIND FILE [--dry-run]``."""

from __future__ import annotations

from pathlib import Path

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.kernel.errors import SpocError
from spoc.core.kernel.types import Actor


@main.group()
def subjects() -> None:
    """Subjects (patients, projects, accounts…) and their SPOCs."""


@subjects.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line and change nothing.")
def subjects_import(kind: str, file: Path, dry_run: bool) -> None:
    """Import subjects of KIND from a CSV FILE (as the system, audited).

    The header names the columns: name, external_ref, spoc (an agent's email), deputies
    (emails separated by ;) and the kind's attribute fields. Every line is checked first; with
    any error nothing is written and the errors are listed by line number. A subject whose
    external_ref exists already is updated, so running the same file again is safe."""
    spoc = ready_spoc()

    def progress(done: int) -> None:
        click.echo(f"  {done} lines written", err=True)

    try:
        with file.open(newline="", encoding="utf-8-sig") as stream:
            report = spoc.onboarding.import_csv(
                Actor.system("spoc subjects import"),
                kind,
                stream,
                dry_run=dry_run,
                progress=progress,
            )
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    for error in report.errors:
        click.echo(str(error), err=True)
    if report.error_count > len(report.errors):
        click.echo(f"… and {report.error_count - len(report.errors)} more errors", err=True)
    prefix = "Dry run: " if dry_run else ""
    click.echo(prefix + report.summary())
    if not report.ok:
        raise click.ClickException("nothing imported: correct the lines above and run again")
