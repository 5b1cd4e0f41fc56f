"""The mail outbox: queued in the caller's transaction, sent by the worker over real SMTP (aiosmtpd on loopback)."""

from __future__ import annotations

import logging
import ssl
import subprocess
from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from kb.extensions import db
from kb.mail import MailStatus, OutboxMessage, backlog_size, deliver, failed_count, oldest_waiting_age, send_mail
from kb.types import utcnow
from tests.conftest import _Collector, login, start_smtp


def rows():
    return list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_mail_waits_for_the_commit_and_is_delivered_once(app, mail_outbox):
    send_mail(["a@example.com", ""], "Subject\nwith newline", "Body text", reply_to="case+abc@localhost")
    assert list.__len__(mail_outbox) == 0  # nothing talks SMTP before the worker runs
    db.session.commit()
    assert len(mail_outbox) == 1
    message = mail_outbox[0]
    assert message.envelope_rcpt == ["a@example.com"]
    assert message["Subject"] == "Subject with newline"
    assert message["Reply-To"] == "case+abc@localhost"
    assert message.get_body(("plain",)).get_content().strip() == "Body text"
    # A caller without HTML still gets an HTML part in the site's layout.
    html = message.get_body(("html",)).get_content()
    assert "<p" in html and "Body text" in html and app.config["SITE_NAME"] in html
    deliver()
    assert len(mail_outbox) == 1
    [row] = rows()
    assert row.status is MailStatus.SENT and row.attempts == 1 and row.sent_at is not None


def test_rolled_back_change_sends_nothing(app, client, mail_outbox):
    @app.route("/_test/mail-then-fail")
    def mail_then_fail():
        send_mail(["a@example.com"], "Never", "This change is rolled back")
        raise RuntimeError("the change failed after the mail was queued")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/_test/mail-then-fail").status_code == 500
    assert mail_outbox == [] and rows() == []


def test_html_is_escaped_in_the_generated_part(app, mail_outbox):
    send_mail(["a@example.com"], "Hi", "<script>alert(1)</script>\nsecond line")
    db.session.commit()
    html = mail_outbox[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<br>second line" in html


def test_without_server_mail_is_logged_and_marked_sent(app, caplog):
    send_mail(["a@example.com"], "Hello", "Logged body")
    db.session.commit()
    with caplog.at_level(logging.INFO):
        report = deliver()
    assert report.sent == 1 and "Logged body" in caplog.text
    assert rows()[0].status is MailStatus.SENT


def test_one_connection_for_a_batch(app):
    sessions = []

    class Counting(_Collector):
        async def handle_DATA(self, server, session, envelope):
            sessions.append(id(session))
            return await super().handle_DATA(server, session, envelope)

    handler = Counting()
    controller = start_smtp(handler)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_BATCH_SIZE=10)
    try:
        for number in range(25):
            send_mail([f"user{number}@example.com"], f"Message {number}", "Hello")
        db.session.commit()
        report = deliver()
    finally:
        controller.stop()
    assert report.sent == 25 and len(handler.messages) == 25
    assert len(set(sessions)) == 3  # 10 + 10 + 5


class Refusing(_Collector):
    def __init__(self, code: str):
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return self.code
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_permanent_refusal_is_failed_and_shown_to_admins(app, client, admin, customer):
    handler = Refusing("550 5.1.1 No such user here")
    controller = start_smtp(handler)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        send_mail(["nobody@example.com"], "Bounces", "x")
        send_mail(["somebody@example.com"], "Arrives", "y")
        db.session.commit()
        report = deliver()
    finally:
        controller.stop()
    assert (report.sent, report.failed) == (1, 1)
    assert [str(m["Subject"]) for m in handler.messages] == ["Arrives"]
    failed = rows()[0]
    assert failed.status is MailStatus.FAILED and "550" in failed.last_error and failed_count() == 1

    login(client, customer)
    assert client.get("/admin/mail").status_code == 403
    assert client.post(f"/admin/mail/{failed.id}/retry").status_code == 403
    client.post("/logout")
    login(client, admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Bounces" in page and "nobody@example.com" in page and "No such user here" in page
    assert "Arrives" not in page  # sent messages are not listed
    response = client.post(f"/admin/mail/{failed.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status is MailStatus.WAITING
    assert client.post("/admin/mail/999999/retry").status_code == 404


def test_retry_button_needs_the_csrf_token(app, client, admin):
    send_mail(["a@example.com"], "Stuck", "x")
    db.session.commit()
    row = rows()[0]
    row.status = MailStatus.FAILED
    db.session.commit()
    login(client, admin)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/admin/mail/{row.id}/retry").status_code == 400
    assert client.post("/admin/mail/retry-failed").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status is MailStatus.FAILED


def test_temporary_refusal_backs_off_then_fails_after_max_attempts(app):
    handler = Refusing("451 4.3.0 Try again later")
    controller = start_smtp(handler)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_MAX_ATTEMPTS=3,
                      MAIL_RETRY_BASE=60, MAIL_RETRY_MAX=100)
    try:
        send_mail(["nobody@example.com"], "Later", "x")
        db.session.commit()
        now = utcnow()
        assert deliver(now).retrying == 1
        row = rows()[0]
        assert row.status is MailStatus.WAITING and row.next_attempt_at == now + timedelta(seconds=60)
        assert deliver(now + timedelta(seconds=30)).handled == 0  # not due yet
        assert deliver(now + timedelta(seconds=61)).retrying == 1
        db.session.refresh(row)
        assert row.next_attempt_at == now + timedelta(seconds=61 + 100)  # 120 s, capped at RETRY_MAX
        assert deliver(now + timedelta(seconds=200)).failed == 1
    finally:
        controller.stop()
    db.session.refresh(row)
    assert row.status is MailStatus.FAILED and row.attempts == 3 and "451" in row.last_error


def test_healthz_reports_an_old_backlog(app, client):
    app.config["MAIL_BACKLOG_MAX_AGE"] = 600
    send_mail(["a@example.com"], "Waiting", "x")
    db.session.commit()
    assert client.get("/healthz").get_json()["checks"]["mail"] == "ok"
    row = rows()[0]
    row.created_at = utcnow() - timedelta(seconds=700)
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "1 messages waiting" in response.get_json()["checks"]["mail"]
    assert backlog_size() == 1 and 699 < oldest_waiting_age() < 800
    deliver()
    assert client.get("/healthz").status_code == 200 and oldest_waiting_age() is None


# --- TLS and login ----------------------------------------------------------------------------

@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, made for this test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


# smtplib tries the next mechanism after a refused login; one mechanism keeps it to one login per try.
ONLY_PLAIN = {"auth_exclude_mechanism": ["LOGIN"]}


def _authenticator(logins):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kb", b"s3cret")
        logins.append(ok)
        return AuthResult(success=ok, handled=False)

    return check


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login(app, certificate, mode):
    cert, context = certificate
    logins: list[bool] = []
    handler = _Collector()
    if mode == "starttls":
        controller = start_smtp(handler, tls_context=context, require_starttls=True, auth_required=True,
                                auth_require_tls=True, authenticator=_authenticator(logins), **ONLY_PLAIN)
    else:
        # The whole connection is TLS; aiosmtpd only counts STARTTLS as TLS for offering AUTH.
        controller = start_smtp(handler, ssl_context=context, auth_required=True, auth_require_tls=False,
                                authenticator=_authenticator(logins), **ONLY_PLAIN)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=mode == "starttls",
                      MAIL_USE_SSL=mode == "ssl", MAIL_USERNAME="kb", MAIL_PASSWORD="wrong",
                      MAIL_SSL_CA_FILE=str(cert))
    try:
        send_mail(["a@example.com"], "Over TLS", "Encrypted")
        db.session.commit()
        report = deliver()
        assert report.retrying == 1 and handler.messages == [] and logins == [False]
        assert "535" in rows()[0].last_error  # the login failed: the message waits for fixed settings
        app.config["MAIL_PASSWORD"] = "s3cret"
        report = deliver(utcnow() + timedelta(hours=1))
    finally:
        controller.stop()
    assert report.sent == 1 and logins == [False, True]
    assert [str(m["Subject"]) for m in handler.messages] == ["Over TLS"]


def test_starttls_refuses_an_untrusted_certificate(app, certificate):
    _, context = certificate
    controller = start_smtp(_Collector(), tls_context=context, require_starttls=True)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=True)
    try:
        send_mail(["a@example.com"], "Hello", "x")
        db.session.commit()
        report = deliver()
    finally:
        controller.stop()
    assert report.retrying == 1 and "CERTIFICATE_VERIFY_FAILED" in rows()[0].last_error


def test_templated_mail_takes_only_plain_values_and_a_broken_template_fails_without_retries(app, mail_outbox):
    from kb.mail import send_template

    with pytest.raises(TypeError):
        send_template(["a@example.com"], "password_reset", "Reset", user=object())
    send_template(["a@example.com"], "no_such_template", "Broken")
    send_template(["b@example.com"], "password_reset", "Reset", user_name="Bea", minutes=60,
                  action_url="http://localhost/r", action_label="Reset", reason="Because.")
    db.session.commit()
    assert [str(m["Subject"]) for m in mail_outbox] == ["Reset"]
    broken = rows()[0]
    assert broken.status is MailStatus.FAILED and "Could not build the message" in broken.last_error
