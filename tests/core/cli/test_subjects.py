"""`spoc subjects import KIND FILE [--dry-run]`: errors by line, then an idempotent import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import func, select

from spoc.core.domain.models import Subject
from tests.conftest import Org


def _subjects(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count(Subject.id))) or 0


def test_import_lists_errors_by_line_then_imports_and_reimports(
    org: Org, spoc_cli: Callable[..., Result], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,external_ref,spoc\nContoso,CT-1,dana@example.org\n,CT-2,\n")
    dry = spoc_cli("subjects", "import", "generic.account", str(bad), "--dry-run")
    assert dry.exit_code == 1
    assert "line 3: name: required" in dry.output
    assert _subjects(org) == 1
    good = tmp_path / "good.csv"
    good.write_text("name,external_ref,spoc\nContoso,CT-1,dana@example.org\nLitware,CT-2,\n")
    done = spoc_cli("subjects", "import", "generic.account", str(good))
    assert done.exit_code == 0, done.output
    assert "2 lines: created 2, updated 0" in done.output
    again = spoc_cli("subjects", "import", "generic.account", str(good))
    assert "created 0, updated 2" in again.output and _subjects(org) == 3


def test_an_unknown_kind_is_named(
    org: Org, spoc_cli: Callable[..., Result], tmp_path: Path
) -> None:
    file = tmp_path / "x.csv"
    file.write_text("name,external_ref\nA,1\n")
    result = spoc_cli("subjects", "import", "nope.kind", str(file))
    assert result.exit_code == 1 and "subject kind 'nope.kind'" in result.output
