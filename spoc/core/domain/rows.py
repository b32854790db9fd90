"""Importing rows that are not subjects — contacts, and plugins' child structures (an event's
vendors) — with the subject import's rules: every line checked first, errors by line and
field, nothing written unless all are clean, then batches of :data:`BATCH` lines, one
transaction each, idempotent by each row's natural key (see :mod:`spoc.core.domain.imports`).

A kind of row is a :class:`RowKind`: its columns, the key that finds a row again, and one
``save`` that checks (``check_only``, in a reading session) or checks and writes (in the
batch's transaction), answering what it did.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from sqlalchemy.orm import Session

from spoc.core.domain.imports import BATCH, ImportReport, ProgressFn
from spoc.core.kernel.errors import ValidationFailed
from spoc.core.kernel.structures import Saved
from spoc.core.storage.db import Database

Values = Mapping[str, Any]
RowLine = tuple[int, Values | str]  # a line's number and its cells, or what is wrong with it


@dataclass(frozen=True)
class RowKind:
    """What one kind of row an import reads and how it is saved."""

    what: str  # named in the report ("contacts", "events.vendor")
    columns: tuple[str, ...]  # every column a file may have
    required: tuple[str, ...]  # the header must name these
    key_column: str  # named in the error of a row listed twice
    key: Callable[[Values], str]  # finds the row again: two lines with one key are refused
    save: Callable[[Session, Values, bool], Saved]  # (session, values, check_only)
    # Called with each batch's lines before they are saved, to read their rows in one query.
    prepare: Callable[[Session, Sequence[Values]], None] | None = None


def read_csv(kind: RowKind, stream: IO[str]) -> Callable[[], Iterator[RowLine]]:
    """The header checked, and a function reading the lines again from the start each time
    it is called (each pass of an import). Blank cells are left out: the model's default
    applies. ``stream`` must be seekable."""
    try:
        stream.seek(0)
        header = next(csv.reader(stream), None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("unreadable file", {"file": str(exc)}) from None
    columns = [c.strip() for c in header or []]
    missing = [c for c in kind.required if c not in columns]
    if missing:
        names = ", ".join(kind.required)
        raise ValidationFailed("invalid file", {"file": f"the first line must name {names}"})
    unknown = sorted(set(columns) - set(kind.columns))
    if unknown:
        raise ValidationFailed("invalid file", {"file": f"unknown columns: {', '.join(unknown)}"})

    def lines() -> Iterator[RowLine]:
        stream.seek(0)
        reader = csv.reader(stream)
        next(reader, None)
        try:
            for number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    yield number, f"has {len(row)} cells, the header {len(columns)}"
                    continue
                yield number, {c: v.strip() for c, v in zip(columns, row, strict=True) if v.strip()}
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed("unreadable file", {"file": str(exc)}) from None

    return lines


def import_rows(
    db: Database,
    kind: RowKind,
    lines: Callable[[], Iterable[RowLine]],
    *,
    dry_run: bool,
    progress: ProgressFn | None = None,
    checking: ProgressFn | None = None,
) -> ImportReport:
    """Check every line, then (not a dry run, no error anywhere) write them in batches;
    ``checking`` and ``progress`` hear the lines checked and written after each batch."""
    report = ImportReport(kind.what, dry_run)
    seen: set[str] = set()
    with db.reader() as session:
        for batch in _batches(lines()):
            _prepare(kind, session, batch)
            _check(kind, session, batch, seen, report)
            if checking is not None:
                checking(report.lines)
    if dry_run or not report.ok:
        return report
    done = 0
    for batch in _batches(lines()):
        with db.transaction() as session:
            _prepare(kind, session, batch)
            for line, values in batch:
                assert not isinstance(values, str)  # the first pass stopped on those
                try:
                    kind.save(session, values, False)
                except ValidationFailed as exc:  # changed between the passes
                    raise ValidationFailed(
                        f"line {line} no longer valid; lines before it were imported",
                        exc.errors,
                    ) from None
        done += len(batch)
        if progress is not None:
            progress(done)
    return report


def _prepare(kind: RowKind, session: Session, batch: Sequence[RowLine]) -> None:
    if kind.prepare is not None:
        kind.prepare(session, [v for _, v in batch if not isinstance(v, str)])


def _check(
    kind: RowKind, session: Session, batch: Sequence[RowLine], seen: set[str], report: ImportReport
) -> None:
    for line, values in batch:
        report.lines += 1
        if isinstance(values, str):
            report.add_error(line, "line", values)
            continue
        key = kind.key(values)
        if key and key in seen:
            report.add_error(line, kind.key_column, f"{key} is listed twice")
            continue
        seen.add(key)
        try:
            saved = kind.save(session, values, True)
        except ValidationFailed as exc:
            for name, message in (exc.errors or {"line": str(exc)}).items():
                report.add_error(line, name, message)
            continue
        if saved is Saved.CREATED:
            report.created += 1
        else:
            report.updated += 1


def replay(items: Sequence[Values]) -> Callable[[], Iterable[RowLine]]:
    """The API's items, numbered from 1 by position (errors name ``body.<index>``)."""
    return lambda: list(enumerate(items, start=1))


def _batches(lines: Iterable[RowLine]) -> Iterator[list[RowLine]]:
    it = iter(lines)
    while batch := list(islice(it, BATCH)):
        yield batch
