"""``kb sla-sweep`` (for cron) and ``kb mail-in`` (for the MTA's pipe)."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from kb.extensions import db


def forget_files(keys) -> None:
    """Remove the bytes of files whose rows were rolled back (the filesystem store keeps them otherwise)."""
    from kb.uploads.storage import storage_for

    for key in keys:
        storage_for().delete(key)


@click.command("sla-sweep")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO time (with offset); for checks.")
@with_appcontext
def sla_sweep_command(now_text: str | None) -> None:
    """Mark cases at risk or breached and email the assigned staff member (or all staff) once per change."""
    from kb.cases.sweep import summary, sweep, sweep_updates

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("use an ISO time such as 2026-01-05T10:00:00+00:00", param_hint="--now") from None
        if now.tzinfo is None:
            raise click.BadParameter("include the UTC offset, e.g. +00:00", param_hint="--now")
    checked, alerts = sweep(now)
    update_checked, update_alerts = sweep_updates(now)
    db.session.commit()
    for alert in alerts + update_alerts:
        click.echo(alert.describe())
    click.echo(f"{summary(checked, alerts, update_checked, update_alerts)} (the worker sends them).")


@click.command("mail-in")
@with_appcontext
def mail_in_command() -> None:
    """Read one email (RFC 822) on stdin and add it as a comment to the case it replies to."""
    from kb.cases import activity, mailin, notify

    limit = int(current_app.config["MAILIN_MAX_BYTES"])
    with click.open_file("-", "rb") as stream:
        raw = stream.read(limit + 1)
    try:
        result = mailin.process(raw)
    except mailin.MailRejected as exc:
        db.session.rollback()
        click.echo(f"Rejected: {exc.reason}", err=True)
        sys.exit(exc.code)
    if not result.repeat:
        keys = [stored.storage_key for stored in result.files]
        # Queued before the commit, so the watchers' mail and the comment land (or roll back) together.
        activity.record(result.case, result.events, result.events[0].author)
        notify.send_public_update(result.case, result.events, result.events[0].author)
        try:
            db.session.commit()
        except IntegrityError:  # the same message delivered twice at once: the other copy was added
            db.session.rollback()
            forget_files(keys)
            result.repeat = True
    if result.repeat:
        click.echo(f"Already added: message <{result.message_id}> is on case #{result.case.number}; nothing changed.")
        return
    extra = "".join(f" ({note})" for note in result.notes)
    click.echo(f"Added a comment from {result.sender} to case #{result.case.number}{extra}.")


@click.command("attachments-prune")
@with_appcontext
def attachments_prune_command() -> None:
    """Remove files of cases closed longer than KB_ATTACHMENT_RETENTION_DAYS and old uploads never attached."""
    from kb.cases.attachments import prune
    from kb.uploads.service import prune_orphans

    removed = prune() + prune_orphans()
    db.session.commit()
    for line in removed:
        click.echo(f"Removed {line}")
    days = current_app.config["ATTACHMENT_RETENTION_DAYS"]
    kept = "files of closed cases are kept forever (KB_ATTACHMENT_RETENTION_DAYS is unset)" if days is None else (
        f"files of cases closed more than {days} days ago are removed")
    click.echo(f"Removed {len(removed)} file{'s' if len(removed) != 1 else ''}; {kept}.")
