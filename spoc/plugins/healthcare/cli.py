"""``spoc healthcare …``: patients, discharges, the access log, export and anonymisation."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

import click

from spoc import Actor, Role, ServiceError, check_staff_access, spoc_of
from spoc.plugins.healthcare import audit
from spoc.plugins.healthcare.forms import Disposition
from spoc.plugins.healthcare.patients import (
    PATIENT,
    Discharge,
    anonymise_patient,
    export_patient,
    record_discharge,
)


@click.group(name="healthcare")
def healthcare_cli() -> None:
    """Patient navigation: patients, discharges, the access log."""


def _fail(exc: Exception) -> None:
    detail = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items())
    raise click.ClickException(f"{exc}" + (f" ({detail})" if detail else ""))


@healthcare_cli.command("add-patient")
@click.option("--name", required=True)
@click.option("--born", required=True, help="Date of birth, YYYY-MM-DD")
@click.option("--record-number", default=None)
@click.option("--language", default="en", show_default=True)
@click.option("--interpreter/--no-interpreter", default=False)
@click.option("--channel", default="phone", show_default=True)
@click.option("--navigator", default=None, help="Email of the patient's navigator (SPOC)")
def add_patient(
    name: str,
    born: str,
    record_number: str | None,
    language: str,
    interpreter: bool,
    channel: str,
    navigator: str | None,
) -> None:
    """Add a patient (the minimum identifying data)."""
    spoc = spoc_of()
    navigator_id = None
    if navigator:
        agent = spoc.directory.agent_by_email(navigator)
        if agent is None:
            raise click.ClickException(f"no agent {navigator}")
        navigator_id = agent.id
    try:
        subject = spoc.directory.add_subject(
            kind=PATIENT,
            name=name,
            spoc_agent_id=navigator_id,
            external_ref=record_number,
            attributes={
                "date_of_birth": born,
                "record_number": record_number,
                "preferred_language": language,
                "interpreter_needed": interpreter,
                "preferred_channel": channel,
            },
        )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Patient {subject.id} added.")


@healthcare_cli.command("discharge")
@click.option("--patient", "patient_id", type=int, default=None, help="Patient id")
@click.option("--record-number", default=None, help="…or the patient's record number")
@click.option("--at", "discharged_at", required=True, help="ISO time with zone")
@click.option(
    "--disposition",
    type=click.Choice([d.value for d in Disposition]),
    default="home",
    show_default=True,
)
@click.option("--follow-up-visit", default="")
@click.option("--contact-name", required=True)
@click.option("--contact-email", required=True)
@click.option("--contact-phone", default=None)
def discharge(
    patient_id: int | None,
    record_number: str | None,
    discharged_at: str,
    disposition: str,
    follow_up_visit: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str | None,
) -> None:
    """Record a discharge: opens the follow-up call, due within 2 business days."""
    spoc = spoc_of()
    try:
        body = Discharge.model_validate(
            {
                "patient_id": patient_id,
                "record_number": record_number,
                "discharged_at": datetime.fromisoformat(discharged_at),
                "disposition": disposition,
                "follow_up_visit": follow_up_visit,
                "contact": {"name": contact_name, "email": contact_email, "phone": contact_phone},
            }
        )
        request, created = record_discharge(spoc, Actor.system("healthcare cli"), body)
    except (ServiceError, ValueError) as exc:
        _fail(exc)
    state = "opened" if created else "already recorded as"
    click.echo(f"Follow-up {state} {spoc.requests.reference(request.id)}.")


@healthcare_cli.group("audit")
def audit_cli() -> None:
    """The staff access log."""


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the access log's hash chain; exit 1 if any row was altered or removed."""
    verdict = audit.verify(spoc_of())
    if verdict.ok:
        click.echo(f"Access log intact: {verdict.rows} rows, chain verified.")
        return
    for problem in verdict.problems:
        click.echo(problem, err=True)
    click.echo(f"Access log TAMPERED: {len(verdict.problems)} problem(s).", err=True)
    sys.exit(1)


@audit_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--patient", "patient_id", type=int, default=None)
@click.option("--output", type=click.File("w"), default="-")
def audit_export(fmt: str, patient_id: int | None, output: TextIO) -> None:
    """Export the access log (or one patient's part) as CSV or JSON."""
    for chunk in audit.export(spoc_of().db, fmt, subject_id=patient_id):
        output.write(chunk)


def _admin(email: str) -> Actor:
    agent = spoc_of().directory.agent_by_email(email)
    if agent is None or agent.role is not Role.ADMIN:
        raise click.ClickException(f"{email} is not an administrator")
    return Actor.agent(agent.id, agent.role, agent.name)


@healthcare_cli.command("export-patient")
@click.argument("patient_id", type=int)
@click.option("--admin", "admin_email", required=True, help="Administrator doing this")
@click.option("--output", type=click.File("w"), default="-")
def export_patient_cmd(patient_id: int, admin_email: str, output: TextIO) -> None:
    """Everything held about a patient, as JSON (subject access / portability)."""
    actor = _admin(admin_email)
    try:
        check_staff_access(
            actor,
            "export:patient",
            subject_id=patient_id,
            channel="cli",
            reason="data subject access request",
        )
        for chunk in export_patient(spoc_of(), patient_id):
            output.write(chunk)
    except ServiceError as exc:
        _fail(exc)


@healthcare_cli.command("anonymise-patient")
@click.argument("patient_id", type=int)
@click.option("--admin", "admin_email", required=True, help="Administrator doing this")
@click.confirmation_option(prompt="This cannot be undone. Anonymise the patient?")
def anonymise_cmd(patient_id: int, admin_email: str) -> None:
    """Remove everything identifying; keep the records for statistics."""
    try:
        count = anonymise_patient(spoc_of(), _admin(admin_email), patient_id)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Patient {patient_id} anonymised ({count} requests).")
