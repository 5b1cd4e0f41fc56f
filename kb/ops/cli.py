"""``kb backup`` and ``kb restore``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.ops import backup as backups


class _Bar:
    """A click progress bar fed (done, total) reports, opened on the first one (when the total is known)."""

    def __init__(self, label: str):
        self.label, self.bar, self.done = label, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Back up the database (SQLite) and the instance files that cannot be rebuilt into DEST."""
    bar = _Bar("Copying the database")
    try:
        report = backups.backup(current_app._get_current_object(), dest, progress=bar)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
    if report.database == "sqlite":
        click.echo(f"Database: {report.pages} pages copied to {dest / backups.DATABASE_FILE}.")
    else:
        click.echo(
            f"Database: not included ({report.database}). Back it up with pg_dump, e.g. "
            "pg_dump --format=custom --file=kb.dump \"$KB_DATABASE_URL\" (drop the +psycopg from the URL)."
        )
    click.echo(f"Instance files: {len(report.files)} copied to {dest / backups.FILES_DIR} "
               "(the search index is left out: kb restore rebuilds it).")
    if report.attachments:
        click.echo(f"Attachments: {len(report.attachments)} files copied from KB_ATTACHMENT_DIR to "
                   f"{dest / backups.ATTACHMENTS_DIR}.")
    click.echo(f"Backup written to {dest}.")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(src: Path) -> None:
    """Restore a SQLite backup made by kb backup into an empty instance, then rebuild the search index."""
    from flask_migrate import upgrade

    from kb.search import rebuild

    app = current_app._get_current_object()
    bar = _Bar("Restoring the database")
    try:
        files = backups.restore(app, src, progress=bar)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
    click.echo(f"Database restored to {backups.sqlite_path(app)}; {len(files)} instance files restored.")
    click.echo("Applying database migrations (a backup from an older version is brought up to date)…")
    upgrade()
    index_bar = _Bar("Rebuilding the search index")
    try:
        count = rebuild(index_bar)
    finally:
        index_bar.close()
    click.echo(f"Search index rebuilt: {count} documents.")
    click.echo(f"Restored from {src}.")


def register_commands(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
