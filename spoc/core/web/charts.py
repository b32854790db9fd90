"""Server-drawn SVG charts of report tables: plain shapes with a title and a description, so
they need no JavaScript and print as they show. Each chart sits next to its data table; a
hidden cell ("fewer than 3") is drawn as no bar and says so in its tooltip."""

from __future__ import annotations

from dataclasses import dataclass

from spoc.core.kernel.reports import Figure, ReportTable

WIDTH = 640
ROW = 22  # a horizontal bar's height with its gap
DAY_HEIGHT = 160


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    shown: str
    series: int


@dataclass(frozen=True)
class Chart:
    kind: str  # "bars" (categories, horizontal) or "days" (a trend, columns)
    width: int
    height: int
    bars: list[Bar]
    series: list[str]
    ticks: list[tuple[float, str]]  # (x or y, label) along the axis
    peak: float


def _value(cell: object) -> float:
    if isinstance(cell, Figure) and not cell.hidden and cell.value is not None:
        return float(cell.value)
    return 0.0


def chart_of(table: ReportTable) -> Chart | None:
    """The chart a table asks for, or ``None`` (no chart, or nothing to draw)."""
    if table.chart is None or not table.rows:
        return None
    figures = [i for i, cell in enumerate(table.rows[0]) if isinstance(cell, Figure)]
    if not figures:
        return None
    columns = figures[:2] if table.chart == "days" else figures[:1]
    peak = max((_value(row[i]) for row in table.rows for i in columns), default=0.0) or 1.0
    bars: list[Bar] = []
    if table.chart == "days":
        slot = (WIDTH - 40) / len(table.rows)
        width = max(slot / (len(columns) + 0.5), 1.0)
        for n, row in enumerate(table.rows):
            for s, i in enumerate(columns):
                height = (DAY_HEIGHT - 20) * _value(row[i]) / peak
                cell = row[i]
                bars.append(
                    Bar(
                        40 + n * slot + s * width,
                        DAY_HEIGHT - 20 - height,
                        width,
                        height,
                        str(row[0]),
                        cell.shown if isinstance(cell, Figure) else str(cell),
                        s,
                    )
                )
        step = max(1, len(table.rows) // 7)
        ticks = [
            (40 + n * slot, str(table.rows[n][0])[5:]) for n in range(0, len(table.rows), step)
        ]
        return Chart(
            "days",
            WIDTH,
            DAY_HEIGHT + 10,
            bars,
            [str(table.columns[i]) for i in columns],
            ticks,
            peak,
        )
    for n, row in enumerate(table.rows):
        cell = row[columns[0]]
        bars.append(
            Bar(
                200,
                n * ROW,
                (WIDTH - 260) * _value(cell) / peak,
                ROW - 6,
                str(row[0]),
                cell.shown if isinstance(cell, Figure) else str(cell),
                0,
            )
        )
    return Chart(
        "bars", WIDTH, len(table.rows) * ROW, bars, [str(table.columns[columns[0]])], [], peak
    )
