"""The ``kb`` command: Flask's CLI bound to this app, plus ``kb init``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from kb import create_app
from kb.config import ConfigError
from kb.extensions import db
from kb.hooks import InitStepError, init_steps
from kb.ops.locking import SCHEMA_LOCK, LockTimeout, advisory_lock


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

    timeout = float(current_app.config["INIT_LOCK_TIMEOUT"])
    problems = 0
    try:
        with advisory_lock(db.engine, SCHEMA_LOCK, timeout, on_wait=_say_waiting):
            click.echo("Applying database migrations…")
            upgrade()
            for label, step in init_steps(current_app):
                click.echo(f"{label}…")
                try:
                    summary = step()
                except InitStepError as exc:
                    db.session.rollback()
                    problems += 1
                    click.echo(f"  error: {exc}", err=True)
                    continue
                if summary:
                    click.echo(f"  {summary}")
    except LockTimeout as exc:
        raise click.ClickException(f"{exc.args[0].capitalize()} (KB_INIT_LOCK_TIMEOUT); nothing was changed, run kb init again.") from None
    if problems:
        raise click.ClickException(f"kb init finished with {problems} problem(s) to fix, listed above; run it again afterwards.")
    click.echo("The site is ready.")


def _say_waiting() -> None:
    click.echo("Another host is running kb init or migrations on this database; waiting for it to finish…")


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Support Center management commands."""



