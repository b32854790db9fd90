"""docs/services.md is the services' own docstrings: it is current, every public method in it
has a docstring, and the generator notices one that has none."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spoc.core.cli import main
from spoc.core.cli.servicedoc import render_services_reference, service_classes, undocumented
from spoc.core.domain.directory import DirectoryService

ROOT = Path(__file__).resolve().parents[3]


def test_generated_services_reference_is_up_to_date() -> None:
    current = (ROOT / "docs" / "services.md").read_text(encoding="utf-8")
    assert current == render_services_reference(), (
        "docs/services.md is stale: run `spoc docs services`"
    )


def test_every_public_service_method_has_a_docstring() -> None:
    assert undocumented() == []


def test_a_new_public_method_without_a_docstring_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def merge_subjects(self: DirectoryService, keep: int, drop: int) -> None:
        pass

    monkeypatch.setattr(DirectoryService, "merge_subjects", merge_subjects, raising=False)
    assert undocumented() == ["spoc.directory.merge_subjects"]
    assert "### `spoc.directory.merge_subjects`" in render_services_reference()


def test_the_reference_covers_the_services_plugins_use() -> None:
    assert {"db", "clock", "requests", "directory", "links", "notifier"} <= set(service_classes())
    text = render_services_reference()
    assert "spoc.requests.create(*, type_key: str" in text
    assert "Raises: `ValidationFailed`." in text
    # Internals of the container are named as such, not documented as services.
    assert "| `spoc.host` | not a service" in text
    # The read functions of the module, with the state they return.
    assert "spoc.request_states(session: Session, ids: Iterable[int])" in text
    assert "### `spoc.open_requests_for`" in text and "### `spoc.request_matches`" in text
    assert "| `escalation_level` | `int` |" in text


def test_docs_services_check_detects_a_stale_reference(tmp_path: Path) -> None:
    target = tmp_path / "services.md"
    runner = CliRunner()
    stale = runner.invoke(main, ["docs", "services", "--check", "--output", str(target)])
    assert stale.exit_code == 1 and "is stale; run: spoc docs services" in stale.output
    assert runner.invoke(main, ["docs", "services", "--output", str(target)]).exit_code == 0
    fresh = runner.invoke(main, ["docs", "services", "--check", "--output", str(target)])
    assert fresh.exit_code == 0 and "up to date" in fresh.output
