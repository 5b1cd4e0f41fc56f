"""Forum commands: ``kb forums-seed``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("forums-seed")
@with_appcontext
def seed_command() -> None:
    """Create the forum categories from content/forums.yml that do not exist yet."""
    from kb.forums.seed import init_step
    from kb.hooks import InitStepError

    try:
        click.echo(init_step())
    except InitStepError as exc:
        raise click.ClickException(str(exc)) from None
