"""Putting messages in the outbox (in the caller's transaction) and building them when the worker sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from flask import current_app
from sqlalchemy import insert

from kb.extensions import db
from kb.mail.models import MailStatus, OutboxMessage
from kb.types import utcnow


def _one_line(text: str) -> str:
    return " ".join(str(text).splitlines()).strip()


def build_message(
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A complete message: plain text first, then the HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=current_app.config["MAIL_REPLY_DOMAIN"])
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = _one_line(value)
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def _render(name: str, context: dict) -> str:
    # Straight from the Jinja environment, without request context processors, so the same
    # message comes out of the worker, a web request or a CLI command.
    config = current_app.config
    context.setdefault("site_name", config["SITE_NAME"])
    context.setdefault("site_url", (config.get("SITE_URL") or "").rstrip("/"))
    return current_app.jinja_env.get_template(f"mail/{name}").render(context)


def render(template: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``templates/mail/<template>.txt`` and ``.html``."""
    return _render(f"{template}.txt", context), _render(f"{template}.html", context)


def _row(to: list[str], subject: str, reply_to: str | None, headers: dict | None, **parts) -> dict | None:
    recipients = [address for address in to if address]
    if not recipients:
        return None
    return {
        "recipients": "\n".join(recipients),
        "subject": _one_line(subject)[:255],
        "reply_to": reply_to or "",
        "headers": dict(headers or {}),
        "message_id": make_msgid(domain=current_app.config["MAIL_REPLY_DOMAIN"]),
        **parts,
    }


def _queue(to: list[str], subject: str, reply_to: str | None, headers: dict | None, **parts) -> OutboxMessage | None:
    values = _row(to, subject, reply_to, headers, **parts)
    if values is None:
        return None
    row = OutboxMessage(**values)
    db.session.add(row)
    return row


def send_mail(
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage | None:
    """Queue one message in the current transaction; the caller's commit sends it (None: nobody to send to).

    A message given without HTML gets one from the plain text in the site's mail layout.
    """
    return _queue(to, subject, reply_to, headers, text_body=body, html_body=html or "")


def send_template(
    to: list[str],
    template: str,
    subject: str,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> OutboxMessage | None:
    """Queue a message from ``templates/mail/<template>``: the way every message should be sent.

    The context must be plain JSON values (strings, numbers, lists, dicts): the worker renders it.
    """
    json.dumps(context)  # a non-JSON value fails here, at the caller, not at the commit
    return _queue(to, subject, reply_to, headers, template=template, context=context)


@dataclass
class Letter:
    """One recipient's message of a ``send_template_each`` batch."""

    to: list[str]
    subject: str
    context: dict
    headers: dict[str, str] | None = None
    reply_to: str | None = None


def send_template_each(template: str, letters: list[Letter]) -> int:
    """Queue one templated message per letter with a single INSERT: a thread with many watchers stays cheap.

    Rows go in at once (not through the session's unit of work), in the caller's transaction all the same;
    the INSERT runs here, so a context that is not plain JSON fails at the caller as in send_template.
    """
    now = utcnow()
    rows = []
    for letter in letters:
        values = _row(letter.to, letter.subject, letter.reply_to, letter.headers, template=template,
                      context=letter.context)
        if values is not None:
            rows.append({**values, "created_at": now, "next_attempt_at": now, "status": MailStatus.WAITING,
                         "attempts": 0, "text_body": "", "html_body": "", "last_error": ""})
    if rows:
        db.session.execute(insert(OutboxMessage.__table__), rows)
    return len(rows)


def message_for(row: OutboxMessage) -> EmailMessage:
    """Build the message a queued row describes, rendering its template now."""
    if row.template:
        text, html = render(row.template, subject=row.subject, **(row.context or {}))
    else:
        text = row.text_body
        html = row.html_body or _render("plain.html", {"text": text, "subject": row.subject})
    return build_message(row.recipient_list, row.subject, text, html=html, reply_to=row.reply_to or None,
                         headers=row.headers, message_id=row.message_id)


def envelope(row: OutboxMessage) -> list[str]:
    return [address for _, address in getaddresses(row.recipient_list) if address]
