"""The labelled set's figures, enforced: CI fails when an engine falls below what it measured
when the thresholds were set (bench/README.md has the figures; both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spoc.core.domain.assist.evaluation import MINIMUM_REQUESTS, Figures, evaluate, load_set, seed
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.services import Spoc, spoc_of
from spoc.testing import AppFactory

LABELLED = Path(__file__).parents[3] / "data" / "assist_eval.json"
BUNDLED = ["generic", "healthcare", "logistics", "projects", "events"]
# (type top-1, duplicate recall@5, article recall@3), a few points under the figures measured
# on both backends (SQLite: lexical 49.3 / 50.0 / 76.8 %, wordllama 59.9 / 93.9 / 84.5 %;
# PostgreSQL: lexical 44.9 / 51.2 / 78.9 %, wordllama the same as on SQLite).
THRESHOLDS = {
    "lexical": (0.42, 0.45, 0.72),
    "wordllama": (0.55, 0.90, 0.80),
}


@pytest.fixture
def everything(make_app: AppFactory) -> Spoc:
    return spoc_of(make_app(plugins=BUNDLED))


def test_each_engine_reaches_its_thresholds_on_the_labelled_set(everything: Spoc) -> None:
    spoc = everything
    labelled = load_set(
        LABELLED, [t.key for t in spoc.host.request_types], [a.key for a in spoc.host.articles]
    )
    ids = seed(spoc, labelled, spoc.clock)
    figures = {f.engine: f for f in evaluate(spoc, labelled, ids, list(THRESHOLDS))}
    for engine, (types, duplicates, articles) in THRESHOLDS.items():
        got: Figures = figures[engine]
        assert got.type_accuracy >= types, got.line()
        assert got.duplicate_recall >= duplicates, got.line()
        assert got.article_recall >= articles, got.line()


def test_the_labelled_set_covers_every_bundled_plugin() -> None:
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    requests = data["requests"]
    assert len(requests) >= MINIMUM_REQUESTS
    plugins = {r["type"].split(".")[0] for r in requests}
    assert plugins == set(BUNDLED)
    assert sum(1 for r in requests if r["duplicate_of"]) >= 30
    assert sum(1 for r in requests if r["article"]) >= 100


def test_a_wrong_entry_in_the_labelled_set_is_named(everything: Spoc, tmp_path: Path) -> None:
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    data["requests"][3]["type"] = "generic.nonesuch"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    types = [t.key for t in everything.host.request_types]
    with pytest.raises(ValidationFailed) as refused:
        load_set(broken, types, [a.key for a in everything.host.articles])
    assert refused.value.errors == {
        data["requests"][3]["id"]: "unknown request type generic.nonesuch"
    }
