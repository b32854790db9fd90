"""Staff accounts, API tokens and a contact's data."""

from __future__ import annotations

import json
from typing import Any

import click

from spoc.core.cli.base import build_app, main, ready_spoc, services_of, staff_account
from spoc.core.kernel.errors import SpocError
from spoc.core.kernel.types import Actor, Role


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name shown to colleagues and requesters.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.AGENT.value,
    show_default=True,
)
@click.password_option(help="At least 12 characters; prompted for when not given.")
def user_add(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account."""
    app = build_app()
    try:
        agent = services_of(app).directory.add_agent(
            email=email, name=name, role=role, password=password
        )
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {agent.role.value} {agent.name} <{agent.email}>")


@user.command("unlock")
@click.argument("email")
def user_unlock(email: str) -> None:
    """Forget failed sign-ins for EMAIL and lift any pause (audited, as the system)."""
    spoc = ready_spoc()
    agent = staff_account(spoc, email)
    try:
        paused = spoc.auth.unlock(Actor.system(), agent.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Unlocked {agent.email} (was paused from {paused} client(s))")


@user.command("reset-2fa")
@click.argument("email")
def user_reset_two_factor(email: str) -> None:
    """Turn off EMAIL's two-factor and sign them out everywhere (audited, as the system): for
    the last admin who lost both phone and recovery codes."""
    spoc = ready_spoc()
    agent = staff_account(spoc, email)
    try:
        was_on = spoc.two_factor.reset(Actor.system(), agent.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Two-factor of {agent.email} {'reset' if was_on else 'was off; nothing to reset'}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("agent_email")
@click.option("--name", required=True, help="What the token is for, e.g. 'EHR integration'.")
def token_create(agent_email: str, name: str) -> None:
    """Create a token that acts as the agent; the secret is shown once."""
    try:
        created, secret = ready_spoc().tokens.create(Actor.system("cli"), agent_email, name)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {created.id} for {agent_email}: {secret}")
    click.echo("Keep it safe: it is not stored and cannot be shown again.")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    try:
        ready_spoc().tokens.revoke(Actor.system("cli"), token_id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {token_id} revoked.")


@token.command("list")
def token_list() -> None:
    """Tokens, newest first (never their secrets)."""
    for created, agent in ready_spoc().tokens.list():
        state = "revoked" if created.revoked_at else "active"
        used = created.last_used_at.strftime("%Y-%m-%d %H:%M") if created.last_used_at else "never"
        click.echo(f"{created.id:>5}  {state:<8} {agent.email:<30} {created.name:<30} used {used}")


@main.group()
def contact() -> None:
    """A contact's data: export it, or erase it (anonymise and keep the figures)."""


def _contact_admin(spoc: Any, email: str) -> Any:
    agent = spoc.directory.agent_by_email(email)
    if agent is None or agent.role is not Role.ADMIN or not agent.active:
        raise click.ClickException(f"{email} is not an active administrator")
    return Actor.agent(agent.id, agent.role, agent.name)


@contact.command("export")
@click.argument("email")
@click.option("--admin", "admin_email", required=True, help="Administrator doing this.")
@click.option("--output", type=click.File("w"), default="-")
def contact_export(email: str, admin_email: str, output: Any) -> None:
    """Everything held about the contact with this address, as JSON."""
    spoc = ready_spoc()
    actor = _contact_admin(spoc, admin_email)
    try:
        found = spoc.privacy.find_contact(email)
        document = spoc.privacy.export_contact(actor, found.id)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    output.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


@contact.command("erase")
@click.argument("email")
@click.option("--admin", "admin_email", required=True, help="Administrator doing this.")
@click.option("--reason", required=True, help="Why (kept in the admin audit trail).")
@click.confirmation_option(prompt="This cannot be undone. Erase the contact?")
def contact_erase(email: str, admin_email: str, reason: str) -> None:
    """Anonymise the contact and what they said; counts, times and types stay."""
    spoc = ready_spoc()
    actor = _contact_admin(spoc, admin_email)
    try:
        found = spoc.privacy.find_contact(email)
        count = spoc.privacy.erase_contact(actor, found.id, reason=reason)
    except SpocError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Contact {found.id} erased ({count} requests anonymised).")
