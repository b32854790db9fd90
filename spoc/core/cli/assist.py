"""``spoc assist``: embed every request now, and measure each engine on the labelled set."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from spoc.core.cli.base import build_app, main, ready_spoc, services_of
from spoc.core.domain.assist.evaluation import evaluate, load_set, seed
from spoc.core.kernel.clock import FrozenClock
from spoc.core.kernel.errors import ValidationFailed

BUNDLED = ("generic", "healthcare", "logistics", "projects", "events")
LABELLED_SET = Path("tests/data/assist_eval.json")
EVALUATED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # any fixed instant: the figures repeat


@main.group()
def assist() -> None:
    """Suggestions: similar requests, articles, the next step."""


@assist.command("rebuild")
@click.option("--engine", default=None, help="A semantic engine (default: SPOC_ASSIST_ENGINE).")
def assist_rebuild(engine: str | None) -> None:
    """Embed every request and article now (after installing or changing the engine); the
    worker keeps them current afterwards. Safe while the app runs."""
    spoc = ready_spoc()
    name = engine or spoc.assist.engine
    if name == "lexical":
        click.echo("The lexical engine uses the search index: nothing to embed.")
        return
    started = time.monotonic()

    def progress(done: int) -> None:
        if done % 10_000 == 0:
            click.echo(f"  {done}")

    done = spoc.assist.rebuild(name, progress=progress)
    click.echo(f"Embedded {done} requests with {name} in {time.monotonic() - started:.1f} s")


@assist.command("evaluate")
@click.option(
    "--set",
    "path",
    default=str(LABELLED_SET),
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The labelled set (JSON).",
)
@click.option("--engine", "engines", multiple=True, help="Only these engines (default: all).")
@click.option("--plugin", "plugins", multiple=True, help="Enable this plugin too (its engines).")
@click.option("--min-type", type=float, default=0.0, help="Fail below this type accuracy.")
@click.option("--min-duplicates", type=float, default=0.0, help="Fail below this recall@5.")
@click.option("--min-articles", type=float, default=0.0, help="Fail below this recall@3.")
def assist_evaluate(
    path: Path,
    engines: tuple[str, ...],
    plugins: tuple[str, ...],
    min_type: float,
    min_duplicates: float,
    min_articles: float,
) -> None:
    """Print top-1 type accuracy, duplicate recall@5 and article recall@3 for each engine,
    measured in a scratch database of the labelled set (never the deployment's). With the
    --min-* options, exit 1 when an engine falls below one (what CI runs)."""
    with tempfile.TemporaryDirectory(prefix="spoc-assist-") as scratch:
        app = build_app(
            web=False,
            env="test",
            database_url=f"sqlite:///{Path(scratch) / 'assist.db'}",
            instance_path=Path(scratch),
            plugins=[*BUNDLED, *plugins],
            calendars={"default": {"always_open": True}},
            clock=FrozenClock(EVALUATED_AT),
        )
        spoc = services_of(app)
        try:
            spoc.upgrade_database()
            known = [t.key for t in spoc.host.request_types]
            labelled = load_set(path, known, [a.key for a in spoc.host.articles])
            started = time.monotonic()
            ids = seed(spoc, labelled, spoc.clock)
            wanted = list(engines) or spoc.assist.engines()
            click.echo(
                f"{len(labelled.requests)} requests, {len(labelled.pairs())} duplicate pairs, "
                f"{sum(1 for r in labelled.requests if r.article)} with an answering article "
                f"(seeded in {time.monotonic() - started:.1f} s)"
            )
            figures = evaluate(spoc, labelled, ids, wanted, progress=click.echo)
        except ValidationFailed as exc:
            raise click.ClickException(f"{exc}: {exc.errors}") from None
        finally:
            spoc.db.dispose()
    below = [
        f"{f.engine} {what} {value:.1%} < {floor:.1%}"
        for f in figures
        for what, value, floor in (
            ("type accuracy", f.type_accuracy, min_type),
            ("duplicate recall@5", f.duplicate_recall, min_duplicates),
            ("article recall@3", f.article_recall, min_articles),
        )
        if value < floor
    ]
    if below:
        raise click.ClickException("below the thresholds: " + "; ".join(below))
