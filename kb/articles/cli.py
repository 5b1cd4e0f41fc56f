"""``kb import-content`` and ``kb export-content``: the content/ folder as a source of truth in git."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.articles import sync
from kb.extensions import db


def _bar(label: str):
    def progress(items):
        return click.progressbar(items, label=label, show_pos=True, item_show_func=lambda p: getattr(p, "name", None) or getattr(p, "slug", None))

    return progress


def _content_dir(path: str | None) -> Path:
    return Path(path or current_app.config["CONTENT_DIR"])


def run_import(content_dir: Path, progress=None) -> sync.SyncReport:
    """Import and commit; used by the CLI command and by ``kb init``."""
    report = sync.import_content(content_dir, current_app.config, progress=progress)
    db.session.commit()
    return report


@click.command("import-content")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Content folder (default: CONTENT_DIR).")
@with_appcontext
def import_content_command(directory: str | None) -> None:
    """Create and update articles and categories from Markdown files; report conflicts and broken files."""
    content_dir = _content_dir(directory)
    report = run_import(content_dir, progress=_bar("Importing articles"))
    for path, reason in report.conflicts:
        click.echo(f"conflict: {path}: {reason}", err=True)
    for path, reason in report.errors:
        click.echo(f"error: {path}: {reason}", err=True)
    if report.categories_created or report.categories_updated:
        click.echo(f"Categories: {report.categories_created} created, {report.categories_updated} updated")
    click.echo(f"Articles: {report.summary()}")
    if report.errors:
        raise SystemExit(1)


@click.command("export-content")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Content folder (default: CONTENT_DIR).")
@with_appcontext
def export_content_command(directory: str | None) -> None:
    """Write every article (any status) and the categories back to Markdown files."""
    content_dir = _content_dir(directory)
    report = sync.export_content(content_dir, current_app.config, progress=_bar("Exporting articles"))
    db.session.commit()
    click.echo(f"Articles: {report.summary()} in {content_dir}")
