"""CSV for people's spreadsheets: no cell runs as a formula, hidden figures read "fewer
than 3", and the lines stream out one at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from spoc.core.kernel.reports import Figure


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula; hidden figures as "fewer than 3"."""
    if isinstance(value, Figure):
        text = "" if value.value is None and not value.hidden else value.shown
    else:
        text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Rows as CSV text, one line at a time (a response streams it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
