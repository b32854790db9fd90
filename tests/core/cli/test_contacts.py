"""`spoc contacts import FILE [--dry-run]`: errors by line, then an idempotent import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import func, select

from spoc.core.domain.models import Contact
from tests.conftest import Org


def _contacts(org: Org) -> int:
    with org.spoc.db.reader() as session:
        return session.scalar(select(func.count(Contact.id))) or 0


def test_import_lists_errors_by_line_then_imports_and_reimports(
    org: Org, spoc_cli: Callable[..., Result], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email,language\nMaria,maria@example.com,de\nAna,ana@,\n")
    dry = spoc_cli("contacts", "import", str(bad), "--dry-run")
    assert dry.exit_code == 1 and "line 3: email:" in dry.output
    assert _contacts(org) == 0
    good = tmp_path / "good.csv"
    good.write_text("name,email,language\nMaria,maria@example.com,de\nAna,ana@example.com,\n")
    done = spoc_cli("contacts", "import", str(good))
    assert done.exit_code == 0, done.output
    assert "2 lines: created 2, updated 0" in done.output
    again = spoc_cli("contacts", "import", str(good))
    assert "created 0, updated 2" in again.output and _contacts(org) == 2


def test_an_unknown_structure_is_named(
    org: Org, spoc_cli: Callable[..., Result], tmp_path: Path
) -> None:
    file = tmp_path / "x.csv"
    file.write_text("parent,code\nA,1\n")
    result = spoc_cli("structures", "import", "nope.thing", str(file))
    assert result.exit_code == 1 and "structure 'nope.thing'" in result.output
