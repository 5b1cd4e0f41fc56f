"""``kb worker``: sends the mail outbox and does the site's periodic work (SLA sweep, search catch-up, clean-up).

Any number of workers may run on any number of hosts against PostgreSQL: mail rows are claimed
with SKIP LOCKED and every periodic task is safe to repeat. On SQLite one worker is enough.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from kb.extensions import db
from kb.hooks import periodic_tasks
from kb.mail import delivery


@dataclass
class Worker:
    """One worker's schedule: when each periodic task last ran (monotonic seconds)."""

    app: Flask
    last_run: dict[str, float] = field(default_factory=dict)

    def due_tasks(self, now: float, everything: bool = False):
        for label, setting, task in periodic_tasks(self.app):
            interval = float(self.app.config[setting])
            if everything or now - self.last_run.get(label, float("-inf")) >= interval:
                self.last_run[label] = now
                yield label, task

    def round(self, everything: bool = False, echo=click.echo) -> delivery.DeliveryReport:
        """Run the periodic tasks that are due, then send what is due (alerts they queued included)."""
        for label, task in self.due_tasks(time.monotonic(), everything):
            try:
                summary = task()
                db.session.commit()
            except Exception:
                db.session.rollback()
                current_app.logger.exception("worker: %s failed; it runs again next time", label)
                echo(f"{label}: failed (see the log); it runs again next time.")
                continue
            if summary:
                echo(f"{label}: {summary}")
        report = delivery.deliver()
        if report.handled:
            echo(f"Mail: {report.sent} sent, {report.retrying} waiting for a retry, {report.failed} failed.")
        for error in dict.fromkeys(report.errors):
            echo(f"  {error}")
        return report


def run(app: Flask, stop: threading.Event, echo=click.echo) -> None:
    """Work until ``stop`` is set: rounds back to back while there is mail, else every WORKER_POLL_INTERVAL."""
    worker = Worker(app)
    while not stop.is_set():
        with app.app_context():
            try:
                report = worker.round(echo=echo)
            except Exception:  # the database may be restarting: log, wait, try again
                db.session.rollback()
                app.logger.exception("worker: round failed; trying again shortly")
                report = delivery.DeliveryReport()
            finally:
                db.session.remove()
        if not report.sent:
            stop.wait(float(app.config["WORKER_POLL_INTERVAL"]))


def start_thread(app: Flask) -> threading.Event:
    """Run a worker in a daemon thread of this process (the development server); set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run, args=(app, stop), name="kb-worker", daemon=True).start()
    return stop


@click.command("worker")
@click.option("--once", is_flag=True, help="Do one round (send what is due, run every periodic task) and exit; for cron and checks.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Send queued mail and run the SLA sweep and other periodic work; runs until stopped (Ctrl-C or SIGTERM)."""
    app = current_app._get_current_object()
    if once:
        report = Worker(app).round(everything=True)
        click.echo(f"Done: {report.sent} messages sent, {delivery.backlog_size()} waiting, "
                   f"{delivery.failed_count()} failed in all.")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = app.config.get("MAIL_SERVER") or "the log (no KB_MAIL_SERVER)"
    click.echo(f"Worker started: mail to {server}; press Ctrl-C to stop.")
    run(app, stop)
    click.echo("Worker stopped.")
