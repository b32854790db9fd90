"""``spoc assist``: the evaluation printed per engine (in its own scratch database), its
thresholds failing the command, and embedding every request of the deployment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from spoc.core.cli import main
from spoc.core.domain.models import AssistVector
from tests.conftest import Org

LABELLED = Path(__file__).parents[2] / "data" / "assist_eval.json"


def test_evaluate_prints_each_engines_figures_and_leaves_the_database_alone(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["assist", "evaluate", "--set", str(LABELLED)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("207 requests, 41 duplicate pairs, 142 with an answering article")
    assert [line.split()[0] for line in lines[1:]] == ["lexical", "wordllama"]
    assert all(
        "type top-1" in line and "recall@5" in line and "recall@3" in line for line in lines[1:]
    )
    assert not (tmp_path / "cli.sqlite").exists()  # measured in a scratch database


def test_evaluate_fails_below_a_threshold_naming_the_engine(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        ["assist", "evaluate", "--set", str(LABELLED), "--engine", "lexical", "--min-type", "0.99"],
        env=env,
    )
    assert result.exit_code == 1
    assert "lexical type accuracy" in result.output and "< 99.0%" in result.output


def test_rebuild_embeds_every_request(org: Org, spoc_cli: Callable[..., Result]) -> None:
    spoc = org.spoc
    for summary in ("Printer jams", "VPN will not connect"):
        org.file(fields={"summary": summary})
    result = spoc_cli("assist", "rebuild")
    assert result.exit_code == 0, result.output
    assert "Embedded 2 requests with wordllama" in result.output
    with spoc.db.reader() as session:
        assert session.scalar(select(func.count()).where(AssistVector.kind == "request")) == 2
