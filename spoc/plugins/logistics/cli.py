"""``spoc logistics ...``: import tracking events from CSV, detect exceptions, sweep."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import click
from pydantic import ValidationError

from spoc import Actor, PermissionDenied, Request, Spoc, spoc_of
from spoc.plugins.logistics.detect import detect
from spoc.plugins.logistics.forms import AddressChangeForm
from spoc.plugins.logistics.ingest import IngestReport, TrackingEventIn, ingest
from spoc.plugins.logistics.services import change_address, verify_contact

BOOL_TRUE = {"1", "true", "yes", "y", "x"}
BOOL_FALSE = {"", "0", "false", "no", "n"}
FLAGS = ("damage", "loss", "customs")
OPTIONAL = ("eta",)
SHOWN_REJECTIONS = 50


@dataclass
class ImportSummary:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _row_to_event(row: dict[str, Any]) -> TrackingEventIn:
    data: dict[str, Any] = {k: v for k, v in row.items() if k is not None}
    for name in FLAGS:
        if name in data:
            value = (data[name] or "").strip().lower()
            if value not in BOOL_TRUE | BOOL_FALSE:
                raise ValueError(f"{name}: {value!r} is not yes/no")
            data[name] = value in BOOL_TRUE
    for name in OPTIONAL:
        if name in data and not (data[name] or "").strip():
            data[name] = None
    return TrackingEventIn.model_validate(data)


def _why(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors())


def import_events(
    spoc: Spoc, stream: TextIO, batch_size: int, progress: Any = None
) -> ImportSummary:
    """Read a CSV (header row = TrackingEventIn field names) and ingest it in batches. Bad
    rows are listed with their line number and reason; good rows land regardless."""
    summary = ImportSummary()
    reader = csv.DictReader(stream)
    missing = {"event_id", "carrier", "tracking_number", "occurred_at", "status"} - set(
        reader.fieldnames or ()
    )
    if missing:
        raise click.UsageError(f"the CSV lacks the column(s): {', '.join(sorted(missing))}")
    pending: list[tuple[int, TrackingEventIn]] = []

    def flush() -> None:
        report: IngestReport = ingest(spoc, [event for _, event in pending])
        summary.accepted += report.accepted
        summary.duplicates += report.duplicates
        summary.rejected += [(pending[r.index][0], r.reason) for r in report.rejected]
        pending.clear()

    for row in _rows(reader):
        line, data = row
        summary.rows += 1
        if progress is not None:
            progress.update(1)
        if None in data:
            summary.rejected.append((line, "more values than columns"))
            continue
        try:
            pending.append((line, _row_to_event(data)))
        except ValidationError as exc:
            summary.rejected.append((line, _why(exc)))
        except ValueError as exc:
            summary.rejected.append((line, str(exc)))
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    summary.rejected.sort()
    return summary


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for row in reader:
        yield reader.line_num, row


@click.group(name="logistics")
def logistics_cli() -> None:
    """Logistics control tower: tracking events and proactive exceptions."""


@logistics_cli.command("import-events")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
def import_events_command(file: Path, batch_size: int) -> None:
    """Import carrier tracking events from a CSV FILE (idempotent by event_id)."""
    spoc = spoc_of()
    with file.open(newline="", encoding="utf-8-sig") as counting:
        total = max(sum(1 for _ in counting) - 1, 0)
    with (
        file.open(newline="", encoding="utf-8-sig") as stream,
        click.progressbar(length=total, label="Importing events") as bar,
    ):
        summary = import_events(spoc, stream, batch_size, bar)
    click.echo(
        f"{summary.rows} rows: {summary.accepted} accepted, {summary.duplicates} duplicates "
        f"(already imported), {len(summary.rejected)} rejected"
    )
    for line, reason in summary.rejected[:SHOWN_REJECTIONS]:
        click.echo(f"  line {line}: {reason}")
    if len(summary.rejected) > SHOWN_REJECTIONS:
        click.echo(f"  ... and {len(summary.rejected) - SHOWN_REJECTIONS} more")
    if summary.rejected:
        raise SystemExit(1)


@logistics_cli.command("detect")
@click.option("--limit", default=None, type=click.IntRange(1, 10_000))
def detect_command(limit: int | None) -> None:
    """Open proactive requests now (one pass), without waiting for the worker.

    Every ``spoc sweep`` / ``spoc worker`` pass does this too, then escalates."""
    click.echo(str(detect(spoc_of(), limit)))


@logistics_cli.command("verify-contact")
@click.argument("account_id", type=int)
@click.argument("email")
@click.option("--method", required=True, help="How you checked: call-back on file, ID, ...")
@click.option("--by", "by", required=True, help="Your name, for the audit")
def verify_contact_command(account_id: int, email: str, method: str, by: str) -> None:
    """Record that EMAIL's identity was verified for the customer ACCOUNT_ID."""
    verify_contact(spoc_of(), Actor.system(by), account_id, email, method)
    click.echo(f"{email} is verified for account {account_id}.")


@logistics_cli.command("apply-address-change")
@click.argument("reference")
@click.option("--by", "by", required=True, help="Your name, for the audit")
def apply_address_change_command(reference: str, by: str) -> None:
    """Apply the address change asked for in request REFERENCE (verified contacts only)."""
    spoc = spoc_of()
    found = spoc.requests.find_by_reference(reference, Actor.system())
    with spoc.db.reader() as session:
        request = session.get(Request, found.id)
        assert request is not None
        email = request.contact.email
    fields = AddressChangeForm.model_validate(found.fields)
    try:
        change_address(
            spoc,
            Actor.system(by),
            tracking_number=fields.tracking_number,
            new_address=fields.new_address,
            requested_by=email,
            request_id=found.id,
        )
    except PermissionDenied as exc:
        raise click.ClickException(f"refused: {exc}") from None
    click.echo(f"Address of {fields.tracking_number} changed (audited).")
