"""Outbound mail over SMTP; with no KB_MAIL_SERVER the message is written to the log instead."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app


def build_message(
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject.replace("\r", " ").replace("\n", " ")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_REPLY_DOMAIN"])
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(to: list[str], subject: str, body: str, **kwargs) -> EmailMessage | None:
    """Send one message to its recipients; returns the message (or None when there is nobody to send to)."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    message = build_message(recipients, subject, body, **kwargs)
    server = current_app.config.get("MAIL_SERVER")
    if not server:
        current_app.logger.info("Mail (not sent, no KB_MAIL_SERVER):\n%s", message.as_string())
        return message
    try:
        with smtplib.SMTP(server, int(current_app.config["MAIL_PORT"]), timeout=current_app.config["MAIL_TIMEOUT"]) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        # A mail outage must not break the page that triggered the mail; the log keeps the message.
        current_app.logger.exception("Could not send mail %r to %s", subject, recipients)
    return message
