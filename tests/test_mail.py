"""Outbound mail reaches a real SMTP server; without a server it goes to the log."""

from __future__ import annotations

import logging

from kb.mail import send_mail


def test_mail_is_delivered_over_smtp(app, mail_outbox):
    send_mail(["a@example.com", ""], "Subject\nwith newline", "Body text", reply_to="case+abc@localhost")
    assert len(mail_outbox) == 1
    message = mail_outbox[0]
    assert message.envelope_rcpt == ["a@example.com"]
    assert message["Subject"] == "Subject with newline"
    assert message["Reply-To"] == "case+abc@localhost"
    assert message.get_content().strip() == "Body text"


def test_without_server_mail_is_logged(app, caplog):
    with caplog.at_level(logging.INFO):
        send_mail(["a@example.com"], "Hello", "Logged body")
    assert "Logged body" in caplog.text


def test_unreachable_server_does_not_raise(app, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)
    assert send_mail(["a@example.com"], "Hello", "Body") is not None
    assert "Could not send mail" in caplog.text
