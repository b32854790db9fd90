"""``spoc reports``: recompute the report facts from the timeline and the clock log (after a
restore, an upgrade that brought the facts in, or a change of which types are private)."""

from __future__ import annotations

import time

import click

from spoc.core.cli.base import main, ready_spoc


@main.group()
def reports() -> None:
    """The facts the Reports page reads."""


@reports.command("rebuild")
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Requests per transaction.",
)
def reports_rebuild(batch: int) -> None:
    """Recompute every request's report facts from its timeline and clock log, in batches by
    id (never all rows at once); safe while the app runs, as each batch is one transaction."""
    spoc = ready_spoc()
    started = time.monotonic()
    done = spoc.reports.rebuild(batch=batch)
    click.echo(f"Report facts rebuilt: {done} requests in {time.monotonic() - started:.1f} s")
