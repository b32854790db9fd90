"""What a subject import reads and reports: drafts as the surfaces hand them in, CSV lines
turned into drafts, batches, and the report of errors by line. The service that checks and
writes them is :mod:`spoc.core.domain.onboarding`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

BATCH = 500
MAX_LISTED_ERRORS = 1000  # beyond this the report counts errors without listing them
MAX_DEPUTIES = 3
CORE_COLUMNS = ("name", "external_ref", "spoc", "deputies")
ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class SubjectDraft:
    """One subject as a surface hands it in: people by email, attributes unvalidated.

    ``spoc``/``deputies`` of ``None`` leave an existing subject's people as they are (a CSV
    without those columns); an empty value removes them."""

    name: str
    external_ref: str | None
    spoc: str | None = None
    deputies: Sequence[str] | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # The fields of the plugin structure completing the kind (its own rows), if it has one.
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    """What an import found (dry run) or did: lines read, created, updated, errors by line."""

    kind: str
    dry_run: bool
    lines: int = 0
    created: int = 0
    updated: int = 0
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, field_name: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(LineError(line, field_name, message))

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        verb_up = "would update" if self.dry_run else "updated"
        text = f"{self.lines} lines: {verb} {self.created}, {verb_up} {self.updated}"
        return text + (f", {self.error_count} errors" if self.error_count else "")


@dataclass(frozen=True)
class Checked:
    line: int
    draft: SubjectDraft
    spoc_id: int | None
    deputy_ids: tuple[int, ...] | None
    attributes: dict[str, Any]
    details: Any = None  # the completing structure's validated fields


Numbered = tuple[int, SubjectDraft | str]  # a line's number and its draft, or what is wrong


def batches(rows: Iterable[Numbered]) -> Iterator[list[Numbered]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


def replay(rows: list[Numbered]) -> Callable[[], Iterable[Numbered]]:
    return lambda: rows


def refs_of(batch: Sequence[Numbered]) -> list[str]:
    return [d.external_ref for _, d in batch if not isinstance(d, str) and d.external_ref]


def draft_from_csv(row: Mapping[str, str], details: Sequence[str] = ()) -> SubjectDraft:
    """One line's draft; ``details`` names the columns of the kind's completing structure."""
    cells = {
        key: value.strip()
        for key, value in row.items()
        if key not in CORE_COLUMNS and value.strip()  # blank: the model's default applies
    }
    attributes = {k: v for k, v in cells.items() if k not in details}
    deputies = None
    if "deputies" in row:
        deputies = [d for d in (p.strip() for p in row["deputies"].split(";")) if d]
    return SubjectDraft(
        name=row.get("name", ""),
        external_ref=row.get("external_ref", "").strip() or None,
        spoc=row["spoc"].strip() if "spoc" in row else None,
        deputies=deputies,
        attributes=attributes,
        details={k: v for k, v in cells.items() if k in details},
    )
