"""``kb sla-sweep`` (for cron) and ``kb mail-in`` (for the MTA's pipe)."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.extensions import db
from kb.templating import duration_words


@click.command("sla-sweep")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO time (with offset); for checks.")
@with_appcontext
def sla_sweep_command(now_text: str | None) -> None:
    """Mark cases at risk or breached and email the assigned staff member (or all staff) once per change."""
    from kb.cases import notify
    from kb.cases.sweep import sweep, sweep_updates

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
    for alert in alerts:
        case, status = alert.case, alert.sla
        subject, body = notify.sla_alert_text(case, status.state, status.remaining)
        recipients = notify.send_staff_alert(case, subject, body)
        click.echo(f"Case #{case.number}: {status.label.lower()} ({_when(status.remaining)}); emailed {', '.join(recipients) or 'nobody (no staff accounts)'}")
    click.echo(f"Checked {checked} open unanswered case{'s' if checked != 1 else ''}; "
               f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} sent.")
    for alert in update_alerts:
        case, status = alert.case, alert.sla
        subject, body = notify.update_alert_text(case, status.state, status.remaining)
        recipients = notify.send_staff_alert(case, subject, body)
        click.echo(f"Case #{case.number}: next update {'overdue' if status.state == 'breached' else 'at risk'} "
                   f"({_when(status.remaining)}); emailed {', '.join(recipients) or 'nobody (no staff accounts)'}")
    click.echo(f"Checked {update_checked} answered case{'s' if update_checked != 1 else ''} for updates; "
               f"{len(update_alerts)} update alert{'s' if len(update_alerts) != 1 else ''} sent.")


def _when(remaining) -> str:
    return f"overdue by {duration_words(-remaining)}" if remaining.total_seconds() < 0 else f"{duration_words(remaining)} left"


@click.command("mail-in")
@with_appcontext
def mail_in_command() -> None:
    """Read one email (RFC 822) on stdin and add it as a comment to the case it replies to."""
    from kb.cases import activity, mailin, notify

    limit = int(current_app.config["CASE_MAILIN_MAX_BYTES"])
    stream = click.get_binary_stream("stdin")
    raw = stream.read(limit + 1)
    try:
        result = mailin.process(raw)
    except mailin.MailRejected as exc:
        db.session.rollback()
        click.echo(f"Rejected: {exc.reason}", err=True)
        sys.exit(exc.code)
    activity.record(result.case, result.events, result.events[0].author)
    db.session.commit()
    notify.send_public_update(result.case, result.events, result.events[0].author)
    click.echo(f"Added a comment from {result.sender} to case #{result.case.number}.")
