"""Outbound mail: messages are rows in the mail outbox, written in the caller's transaction; the worker sends them.

Use ``send_template`` (HTML and plain text from ``templates/mail/``) for every new message;
``send_mail`` stays for callers that bring their own text.
"""

from __future__ import annotations

from flask import Flask

from kb.mail.compose import Letter, build_message, render, send_mail, send_template, send_template_each
from kb.mail.delivery import backlog_size, deliver, failed_count, oldest_waiting_age
from kb.mail.models import MailStatus, OutboxMessage

__all__ = [
    "Letter",
    "MailStatus",
    "OutboxMessage",
    "backlog_size",
    "build_message",
    "deliver",
    "failed_count",
    "init_app",
    "oldest_waiting_age",
    "render",
    "send_mail",
    "send_template",
    "send_template_each",
]


def init_app(app: Flask) -> None:
    from kb.hooks import register_health_check, register_metric, register_periodic
    from kb.mail import delivery, settings

    settings.apply(app.config)
    register_health_check(app, "mail", delivery.health)
    register_metric(app, "kb_mail_outbox_waiting", "Messages waiting to be sent (due or backing off).",
                    delivery.backlog_size)
    register_metric(app, "kb_mail_outbox_oldest_seconds", "Age of the oldest waiting message (0 when none waits).",
                    lambda: delivery.oldest_waiting_age() or 0.0)
    register_metric(app, "kb_mail_outbox_failed", "Messages marked failed after their last attempt.",
                    delivery.failed_count)
    register_periodic(app, "Pruning sent mail", "WORKER_CLEANUP_INTERVAL", _prune_task)


def _prune_task() -> str | None:
    from kb.mail import delivery

    removed = delivery.prune_sent()
    return f"deleted {removed} sent messages" if removed else None
