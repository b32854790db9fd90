"""``spoc events …``: plan events, vendors and deliverables; import attendees; vendor links."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from typing import TextIO

import click

from spoc import Actor, ServiceError, spoc_of
from spoc.plugins.events import attendees, program, vendors
from spoc.plugins.events.settings import EventsSettings

CLI = Actor.system("events cli")


def _settings() -> EventsSettings:
    return spoc_of().plugin_settings("events", EventsSettings)


def _fail(exc: Exception) -> None:
    detail = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items())
    raise click.ClickException(f"{exc}" + (f" ({detail})" if detail else ""))


def _event_id(code: str) -> int:
    with spoc_of().db.reader() as session:
        try:
            return program.event_by_code(session, code).id
        except ServiceError as exc:
            _fail(exc)
            raise


@click.group(name="events")
def events_cli() -> None:
    """The event help desk: events, vendors, attendees."""


@events_cli.command("add-event")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--venue", required=True)
@click.option("--timezone", "tz", required=True, help="IANA zone, e.g. Europe/Berlin")
@click.option("--starts", required=True, type=click.DateTime(), help="Local time at the venue")
@click.option("--ends", required=True, type=click.DateTime())
@click.option("--capacity", required=True, type=int)
@click.option("--load-in", type=click.DateTime(), default=None)
@click.option("--manager", default=None, help="Email of the event manager (the SPOC)")
def add_event(
    code: str,
    name: str,
    venue: str,
    tz: str,
    starts: datetime,
    ends: datetime,
    capacity: int,
    load_in: datetime | None,
    manager: str | None,
) -> None:
    """Add an event (times are wall-clock times at the venue)."""
    spoc = spoc_of()
    manager_id = None
    if manager:
        agent = spoc.directory.agent_by_email(manager)
        if agent is None:
            raise click.ClickException(f"no agent {manager}")
        manager_id = agent.id
    try:
        event = program.create_event(
            spoc,
            _settings(),
            CLI,
            program.EventPlan(
                code, name, venue, tz, starts, ends, capacity, load_in, None, manager_id
            ),
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Event {event.code} added.")


@events_cli.command("add-session")
@click.argument("event_code")
@click.option("--title", required=True)
@click.option("--room", required=True)
@click.option("--starts", required=True, type=click.DateTime())
@click.option("--ends", required=True, type=click.DateTime())
@click.option("--speaker", default="")
def add_session(
    event_code: str, title: str, room: str, starts: datetime, ends: datetime, speaker: str
) -> None:
    """Add a session to the programme."""
    try:
        row = program.add_session(
            spoc_of(),
            _event_id(event_code),
            title=title,
            room=room,
            starts=starts,
            ends=ends,
            speaker=speaker,
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Session {row.id} added.")


def _email(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return vendors.valid_email(value)
    except ServiceError:
        raise click.BadParameter(f"{value!r} is not an email address") from None


@events_cli.command("add-vendor")
@click.argument("event_code")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--email", required=True, callback=_email, help="On-site contact's email")
@click.option("--contact", default="", help="On-site contact's name")
@click.option("--phone", default="")
@click.option("--insurance-until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--budget-tolerance", type=float, default=None)
def add_vendor(
    event_code: str,
    code: str,
    name: str,
    email: str,
    contact: str,
    phone: str,
    insurance_until: datetime | None,
    budget_tolerance: float | None,
) -> None:
    """Add a vendor to an event; its triggers start watching."""
    expires: date | None = insurance_until.date() if insurance_until else None
    try:
        vendor = vendors.add_vendor(
            spoc_of(),
            _settings(),
            _event_id(event_code),
            vendors.VendorPlan(
                code,
                name,
                email,
                contact,
                phone,
                budget_tolerance=budget_tolerance,
                insurance_expires_on=expires,
            ),
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Vendor {vendor.code} added (id {vendor.id}).")


@events_cli.command("vendor-link")
@click.argument("vendor_id", type=int)
def vendor_link(vendor_id: int) -> None:
    """Issue the vendor's portal link (the previous one stops working)."""
    spoc = spoc_of()
    try:
        token = vendors.issue_portal_link(spoc, _settings(), vendor_id)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"{spoc.settings.base_url.rstrip('/')}/p/events/v/{token}")


@events_cli.command("import-attendees")
@click.argument("event_code")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_attendees(event_code: str, file: TextIO) -> None:
    """Import registrations from a CSV file (name, email, order_code, ticket_type).

    Good rows land; each bad row is reported with its line number."""
    spoc = spoc_of()
    event_id = _event_id(event_code)
    lines = file.readlines()
    try:
        rows = list(attendees.read_rows(StringIO("".join(lines))))
    except ServiceError as exc:
        _fail(exc)
    with click.progressbar(length=len(rows), label="Importing attendees") as bar:
        report = attendees.import_attendees(spoc, event_id, rows, progress=bar.update)
    click.echo(f"{report.added} added, {report.updated} updated, {len(report.errors)} with errors.")
    for line, problem in report.errors:
        click.echo(f"line {line}: {problem}", err=True)
    if report.errors:
        raise SystemExit(1)
