"""``spoc search``: rebuild the full-text index from the rows (after a restore, or a change of
enabled plugins: which fields are sensitive and which types private comes from them)."""

from __future__ import annotations

import time

import click

from spoc.core.cli.base import main, ready_spoc
from spoc.core.domain.search.index import BATCH


@main.group()
def search() -> None:
    """The full-text search index."""


@search.command("rebuild")
@click.option(
    "--batch",
    default=BATCH,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Rows per transaction.",
)
def search_rebuild(batch: int) -> None:
    """Rewrite every request's, contact's, subject's and plugin article's search document, in
    batches by id (never all rows at once); safe while the app runs."""
    spoc = ready_spoc()
    started = time.monotonic()

    def progress(kind: str, done: int) -> None:
        if done % (batch * 20) == 0:
            click.echo(f"  {kind}s: {done}")

    done = spoc.search.rebuild(batch=batch, progress=progress)
    seconds = time.monotonic() - started
    counts = ", ".join(f"{n} {kind}s" for kind, n in done.items())
    click.echo(f"Search index rebuilt: {counts} in {seconds:.1f} s")
