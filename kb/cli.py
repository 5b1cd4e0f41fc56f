"""The ``kb`` command: Flask's CLI bound to this app, plus ``kb init``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from kb import create_app
from kb.config import ConfigError
from kb.hooks import init_steps

def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Bring the site up to date: migrations, bundled content, forum categories, search index."""
    from flask_migrate import upgrade

    click.echo("Applying database migrations…")
    upgrade()
    for label, step in init_steps(current_app):
        click.echo(f"{label}…")
        summary = step()
        if summary:
            click.echo(f"  {summary}")
    click.echo("The site is ready.")


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Support Center management commands."""



