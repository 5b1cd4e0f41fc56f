"""Building messages and putting them in the outbox; the worker sends them after the commit."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from flask import current_app

from kb.extensions import db
from kb.mail.models import OutboxMessage


def _one_line(text: str) -> str:
    return " ".join(str(text).splitlines()).strip()


def build_message(
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A complete message: plain text first, then the HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_REPLY_DOMAIN"])
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
    # message comes out of a web request, the worker and a CLI command.
    config = current_app.config
    context.setdefault("site_name", config["SITE_NAME"])
    context.setdefault("site_url", (config.get("SITE_URL") or "").rstrip("/"))
    return current_app.jinja_env.get_template(f"mail/{name}").render(context)


def render(template: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``templates/mail/<template>.txt`` and ``.html``."""
    return _render(f"{template}.txt", context), _render(f"{template}.html", context)


def send_mail(
    to: list[str],
    subject: str,
    body: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    kind: str = "message",
) -> EmailMessage | None:
    """Queue one message in the current transaction; the caller's commit sends it (None: nobody to send to).

    A message given without HTML gets one from the plain text in the site's mail layout.
    """
    recipients = [address for address in to if address]
    if not recipients:
        return None
    if html is None:
        html = _render("plain.html", {"text": body, "subject": _one_line(subject)})
    message = build_message(recipients, subject, body, html=html, reply_to=reply_to, headers=headers)
    envelope = [address for _, address in getaddresses(recipients) if address]
    db.session.add(OutboxMessage(
        recipients="\n".join(envelope),
        subject=str(message["Subject"])[:255],
        kind=kind[:40],
        raw=message.as_string(),
    ))
    return message


def send_template(
    to: list[str],
    template: str,
    subject: str,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> EmailMessage | None:
    """Queue a message rendered from ``templates/mail/<template>``: the way every message should be sent."""
    text, html = render(template, subject=_one_line(subject), **context)
    return send_mail(to, subject, text, html=html, reply_to=reply_to, headers=headers, kind=template)
