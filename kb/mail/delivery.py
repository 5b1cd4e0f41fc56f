"""Sending the outbox: claim a batch, one SMTP connection for it, back off on temporary failures.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and stay locked until the batch's
outcome is committed, so on PostgreSQL any number of workers share the queue and each message
goes out once. SQLite has no row locks: run one worker there.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from kb.extensions import db
from kb.hooks import mail_sources
from kb.mail.compose import envelope, message_for
from kb.mail.models import MailStatus, OutboxMessage
from kb.types import utcnow


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: "DeliveryReport") -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors.extend(other.errors)


class _LogTransport:
    """With no KB_MAIL_SERVER, messages are written to the log instead of being sent."""

    def send(self, message, recipients: list[str]) -> dict:
        current_app.logger.info("Mail (not sent, no KB_MAIL_SERVER):\n%s", message.as_string())
        return {}

    def close(self) -> None:
        pass


class _SmtpTransport:
    """One connection for a whole batch: TLS (implicit or STARTTLS) and login as configured."""

    def __init__(self, config):
        host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT"])
        context = ssl.create_default_context(cafile=config.get("MAIL_SSL_CA_FILE") or None)
        if config["MAIL_USE_SSL"]:
            self.smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            self.smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                self.smtp.starttls(context=context)
            if config["MAIL_USERNAME"]:
                self.smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except BaseException:
            self.close()
            raise

    def send(self, message, recipients: list[str]) -> dict:
        return self.smtp.send_message(message, to_addrs=recipients)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()


def _transport():
    config = current_app.config
    return _SmtpTransport(config) if config.get("MAIL_SERVER") else _LogTransport()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: RETRY_BASE, twice that, four times ... capped at RETRY_MAX."""
    config = current_app.config
    base, cap = float(config["MAIL_RETRY_BASE"]), float(config["MAIL_RETRY_MAX"])
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _permanent(exc: Exception) -> bool:
    """A 5xx answer about this message (not about our login or the connection) will never succeed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                         for rcpt, (code, text) in exc.recipients.items())[:1000]
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {error}"[:1000]
    return f"{exc.__class__.__name__}: {exc}"[:1000]


def _record_failure(row: OutboxMessage, error: str, now: datetime, permanent: bool, report: DeliveryReport) -> None:
    row.attempts += 1
    row.last_error = error
    if permanent or row.attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        row.status = MailStatus.FAILED
        report.failed += 1
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        report.retrying += 1


def claim_batch(now: datetime, limit: int) -> list[OutboxMessage]:
    """Messages due now that no other worker holds; they stay locked until the caller commits."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == MailStatus.WAITING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(db.session.scalars(query))


def deliver_batch(now: datetime | None = None) -> DeliveryReport:
    """Send one batch of due messages over one connection and commit the outcome."""
    now = now or utcnow()
    report = DeliveryReport()
    rows = claim_batch(now, int(current_app.config["MAIL_BATCH_SIZE"]))
    if not rows:
        db.session.rollback()
        return report
    try:
        transport = _transport()
    except OSError as exc:  # smtplib's errors included
        # The relay is down or refuses our login: every message waits for the next try.
        error = f"Could not reach the mail server: {_describe(exc)}"
        report.errors.append(error)
        for row in rows:
            _record_failure(row, error, now, False, report)
        db.session.commit()
        return report
    try:
        for index, row in enumerate(rows):
            try:
                message = message_for(row)
            except Exception as exc:  # a template or context that cannot render never will: no retries
                current_app.logger.exception("mail: could not build message %s", row.id)
                _record_failure(row, f"Could not build the message: {_describe(exc)}", now, True, report)
                continue
            try:
                refused = transport.send(message, envelope(row))
            except OSError as exc:  # SMTPException is an OSError too: an answer about this message, or a lost connection
                if isinstance(exc, smtplib.SMTPException) and not isinstance(exc, smtplib.SMTPServerDisconnected):
                    _record_failure(row, _describe(exc), now, _permanent(exc), report)
                    _reset(transport)
                    continue
                error = f"The mail server went away: {_describe(exc)}"
                report.errors.append(error)
                for rest in rows[index:]:
                    _record_failure(rest, error, now, False, report)
                break
            row.status, row.sent_at, row.attempts = MailStatus.SENT, utcnow(), row.attempts + 1
            row.last_error = _describe(smtplib.SMTPRecipientsRefused(refused)) if refused else ""
            report.sent += 1
    finally:
        transport.close()
        db.session.commit()
    return report


def _reset(transport) -> None:
    """After a refused message, RSET so the next one starts a clean transaction on the same connection."""
    smtp = getattr(transport, "smtp", None)
    if smtp is not None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            pass


def deliver(now: datetime | None = None, max_batches: int = 1000) -> DeliveryReport:
    """Write out the mail features queued in a compact form (kb.hooks.register_mail_source), then
    send everything due now, batch after batch, until the queue has nothing due."""
    for write_out, _ in mail_sources(current_app):
        write_out()
    total = DeliveryReport()
    for _ in range(max_batches):
        report = deliver_batch(now)
        total.add(report)
        if report.handled == 0 or report.sent == 0:
            break
    return total


def retry(message_id: int) -> bool:
    """Put a failed or waiting message back at the front of the queue with a fresh set of attempts."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None or row.status is MailStatus.SENT:
        return False
    row.status, row.attempts, row.next_attempt_at = MailStatus.WAITING, 0, utcnow()
    return True


def prune_sent(now: datetime | None = None) -> int:
    """Delete messages sent more than MAIL_SENT_KEEP_DAYS ago; failed and waiting ones stay."""
    cutoff = (now or utcnow()) - timedelta(days=float(current_app.config["MAIL_SENT_KEEP_DAYS"]))
    result = db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.status == MailStatus.SENT, OutboxMessage.sent_at < cutoff)
    )
    return result.rowcount or 0


# Figures for monitoring: plain functions the metrics endpoint and the health check share.

def backlog_size() -> int:
    """Messages waiting to be sent (due now or backing off)."""
    return db.session.scalar(select(func.count()).where(OutboxMessage.status == MailStatus.WAITING)) or 0


def oldest_waiting_age(now: datetime | None = None) -> float | None:
    """Seconds since the oldest waiting message was queued, in the outbox or still in a feature's
    compact form (kb.hooks.register_mail_source); None when nothing waits."""
    queued = [db.session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == MailStatus.WAITING))]
    queued += [oldest() for _, oldest in mail_sources(current_app)]
    found = [when for when in queued if when is not None]
    if not found:
        return None
    return max(0.0, ((now or utcnow()) - min(found)).total_seconds())


def failed_count() -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.status == MailStatus.FAILED)) or 0


def health() -> None:
    """Raise when mail has waited longer than MAIL_BACKLOG_MAX_AGE: the worker is not running or the relay is down."""
    age = oldest_waiting_age()
    limit = float(current_app.config["MAIL_BACKLOG_MAX_AGE"])
    if age is not None and age > limit:
        waiting = backlog_size()
        if not waiting:  # only mail a feature queued in its compact form, which the worker writes out
            raise RuntimeError(f"mail queued {int(age)} s ago is not written out yet (limit {int(limit)} s): "
                               "is the worker running?")
        raise RuntimeError(f"{waiting} messages waiting; the oldest for {int(age)} s (limit {int(limit)} s)")
