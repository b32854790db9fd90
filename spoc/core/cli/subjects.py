"""Subjects, contacts and plugins' structures in bulk: ``spoc subjects import KIND FILE``,
``spoc contacts import FILE`` and ``spoc structures import KEY FILE`` (each ``[--dry-run]``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.domain.imports import ImportReport
from spoc.core.kernel.errors import SpocError
from spoc.core.kernel.types import Actor


def _progress(done: int) -> None:
    click.echo(f"  {done} lines written", err=True)


def _print(report: ImportReport, dry_run: bool) -> None:
    for error in report.errors:
        click.echo(str(error), err=True)
    if report.error_count > len(report.errors):
        click.echo(f"… and {report.error_count - len(report.errors)} more errors", err=True)
    click.echo(("Dry run: " if dry_run else "") + report.summary())
    if not report.ok:
        raise click.ClickException("nothing imported: correct the lines above and run again")


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
    _import(
        file,
        dry_run,
        lambda stream: spoc.onboarding.import_csv(
            Actor.system("spoc subjects import"), kind, stream, dry_run=dry_run, progress=_progress
        ),
    )


@main.group()
def contacts() -> None:
    """Contacts: the people who file requests."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line and change nothing.")
def contacts_import(file: Path, dry_run: bool) -> None:
    """Import contacts from a CSV FILE (as the system, audited).

    Columns: name, email, phone, language. A contact is found by email: an existing one is
    updated, so running the same file again is safe. Every line is checked first; with any
    error nothing is written and the errors are listed by line number."""
    spoc = ready_spoc()
    _import(
        file,
        dry_run,
        lambda stream: spoc.contacts.import_csv(
            Actor.system("spoc contacts import"), stream, dry_run=dry_run, progress=_progress
        ),
    )


@main.group()
def structures() -> None:
    """Plugins' structures under a subject: an event's sessions and vendors, and so on."""


@structures.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line and change nothing.")
def structures_import(key: str, file: Path, dry_run: bool) -> None:
    """Import items of the plugin structure KEY (events.vendor, …) from a CSV FILE.

    Columns: parent (the parent subject's external_ref) and the structure's fields. An item
    is found again by its key fields under its parent, so running the same file again is
    safe. Every line is checked first; with any error nothing is written."""
    spoc = ready_spoc()
    _import(
        file,
        dry_run,
        lambda stream: spoc.structures.import_csv(
            Actor.system("spoc structures import"), key, stream, dry_run=dry_run, progress=_progress
        ),
    )


def _import(file: Path, dry_run: bool, run: Callable[[TextIO], Any]) -> None:
    """Open the CSV ``file`` (a BOM allowed), run the import on it, print its report; a
    refusal is the command's error."""
    try:
        with file.open(newline="", encoding="utf-8-sig") as stream:
            report = run(stream)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    _print(report, dry_run)
