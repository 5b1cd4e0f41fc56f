"""``kb create-org`` and ``kb create-user``: account set-up from scripts."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.accounts.models import Plan, Role
from kb.accounts.users import AccountError, create_organization, create_user, organization_by_name
from kb.extensions import db


@click.command("create-org")
@click.option("--name", required=True, help="Organisation name (unique).")
@click.option("--plan", type=click.Choice([p.value for p in Plan]), default=Plan.STANDARD.value, show_default=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone, e.g. Europe/London.")
@with_appcontext
def create_org_command(name: str, plan: str, timezone: str) -> None:
    """Create a customer organisation."""
    try:
        org = create_organization(name, plan, timezone)
        db.session.commit()
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created organisation {org.name!r} (id {org.id}, plan {org.plan.value}, timezone {org.timezone}).")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.CUSTOMER.value, show_default=True)
@click.option("--org", "org_name", help="Name of the organisation the user belongs to.")
@click.option("--name", "display_name", help="Display name (default: the part of the email before @).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted for when omitted.")
@with_appcontext
def create_user_command(email: str, role: str, org_name: str | None, display_name: str | None, password: str) -> None:
    """Create a user of any role."""
    org = None
    if org_name:
        org = organization_by_name(org_name)
        if org is None:
            raise click.ClickException(f"No organisation named {org_name!r}; create it with `kb create-org`.")
    try:
        user = create_user(
            email,
            password,
            display_name=display_name,
            role=Role(role),
            organization=org,
            min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
        db.session.commit()
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    where = f" in {org.name}" if org else ""
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}){where}.")
