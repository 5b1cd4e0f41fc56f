"""`kb reindex` and `kb search-check`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.search import indexing


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database and swap it in; the old one serves until then."""
    app = current_app._get_current_object()
    with click.progressbar(length=0, label="Indexing documents", show_pos=True) as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - state["done"])
            state["done"] = done

        try:
            count = indexing.rebuild(app, progress)
        except TimeoutError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Indexed {count} documents; the new index is now in service.")


@click.command("search-check")
@with_appcontext
def search_check_command() -> None:
    """List documents missing from, stale in, or extra in the search index; exit 1 on any drift."""
    report = indexing.check(current_app._get_current_object())
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        click.echo("The index has drifted from the database: run `kb reindex` to rebuild it.", err=True)
        raise SystemExit(1)
    click.echo("The index matches the database.")
