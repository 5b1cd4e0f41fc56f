"""Email out (through a real SMTP server) and email in (real messages through `kb mail-in`)."""

from __future__ import annotations

from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from kb.cases import actions, notify
from kb.cases.models import CaseEvent, EventKind
from kb.extensions import db
from kb.types import utcnow
from tests.conftest import login


@pytest.fixture
def case(make_case, customer):
    return make_case(customer, title="Sites disconnect nightly")


def reply_to_of(message) -> str:
    return str(message["Reply-To"])


# --- out -----------------------------------------------------------------------------------


def test_opening_a_case_confirms_by_email(client, customer, mail_outbox):
    login(client, customer)
    client.post("/cases/new", data={"title": "Live failover hangs", "description": "At 40%", "severity": "1"})
    [message] = mail_outbox
    assert message.envelope_rcpt == [customer.email]
    assert "Received: Live failover hangs" in str(message["Subject"])
    assert "first response is due by" in message.get_body(("plain",)).get_content()
    assert reply_to_of(message).startswith("case+") and reply_to_of(message).endswith("@localhost")


def test_public_staff_reply_emails_watchers_but_not_the_author(client, case, customer, staff, make_user, org, mail_outbox):
    colleague = make_user("customer", org=org)
    outsider = make_user("customer")
    actions.set_watching(case, colleague, True)
    actions.set_watching(case, outsider, True)  # e.g. moved out of the organisation since
    db.session.commit()
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Please send the appliance logs.", "update-send": "reply"})
    recipients = sorted(address for m in mail_outbox for address in m.envelope_rcpt)
    assert recipients == sorted([customer.email, colleague.email])
    message = mail_outbox[0]
    assert f"[Case #{case.number}]" in str(message["Subject"])
    assert "Please send the appliance logs." in message.get_body(("plain",)).get_content()
    assert message["Auto-Submitted"] == "auto-generated"
    # Each watcher's reply address is their own.
    by_recipient = {m.envelope_rcpt[0]: reply_to_of(m) for m in mail_outbox}
    assert len(set(by_recipient.values())) == 2
    for address, reply_to in by_recipient.items():
        claims = notify.read_token(reply_to.split("+", 1)[1].split("@")[0])
        assert (claims.number, db.session.get(type(customer), claims.user_id).email) == (case.number, address)


def test_internal_notes_are_never_emailed(client, case, staff, mail_outbox):
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "NOTE-ONLY", "update-send": "note"})
    client.post(f"/cases/{case.number}/assign", data={"take": "1"})
    assert mail_outbox == []


def test_escalation_alerts_staff(client, case, customer, staff, admin, mail_outbox):
    login(client, customer)
    client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "Board meeting tomorrow"})
    staff_mail = [m for m in mail_outbox if "Escalated" in str(m["Subject"])]
    assert len(staff_mail) == 1
    assert sorted(staff_mail[0].envelope_rcpt) == sorted([staff.email, admin.email])
    assert "Board meeting tomorrow" in staff_mail[0].get_body(("plain",)).get_content()


def test_reply_tokens_bind_case_recipient_and_time(app, case, customer):
    token = notify.reply_token(case, customer)
    claims = notify.read_token(token)
    assert (claims.number, claims.user_id) == (case.number, customer.id)
    assert abs((claims.issued_at - utcnow()).total_seconds()) < 5
    number, user_id, issued, mac = token.split("-")
    assert notify.read_token(f"{int(number) + 1}-{user_id}-{issued}-{mac}") is None
    assert notify.read_token(f"{number}-{int(user_id) + 1}-{issued}-{mac}") is None
    assert notify.read_token(f"{number}-{user_id}-{issued}z-{mac}") is None  # a later issue time
    assert notify.read_token(f"{number}-{user_id}-{issued}-{'0' * 24}") is None
    assert notify.read_token(f"{number}-{mac}") is None  # the old shared form, one per case
    assert notify.read_token("garbage") is None
    app.config["SECRET_KEY"] = "another-secret"
    assert notify.read_token(token) is None


# --- in ------------------------------------------------------------------------------------


def plain_reply(case, sender: str, body: str, recipient=None, **headers) -> bytes:
    """A reply to the notification sent to ``recipient`` (the case's opener unless said)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notify.reply_address(case, recipient or case.opener)
    message["Subject"] = f"Re: [Case #{case.number}] {case.title}"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


QUOTED = (
    "Logs are attached to the ticket now.\nThe errors start at 02:00.\n\n"
    "On Mon, 5 Jan 2026 at 10:00, Support Center <support@localhost> wrote:\n"
    "> Please send the appliance logs.\n> Thanks\n"
)


def forge(raw: bytes, change) -> bytes:
    """The message with its reply token rewritten by ``change``."""
    text = raw.decode()
    start = text.index("case+") + len("case+")
    end = text.index("@", start)
    return (text[:start] + change(text[start:end]) + text[end:]).encode()


def mail_in(runner, raw: bytes):
    return runner.invoke(args=["mail-in"], input=raw)


def comments(case) -> list[CaseEvent]:
    db.session.expire_all()
    return [e for e in case.events if e.kind is EventKind.COMMENT]


def test_plain_reply_becomes_a_comment_without_the_quote(runner, case, customer):
    result = mail_in(runner, plain_reply(case, f"Alice <{customer.email}>", QUOTED + "\n-- \nAlice, Acme IT\n"))
    assert result.exit_code == 0, result.output
    assert f"case #{case.number}" in result.output
    [comment] = comments(case)
    assert comment.body == "Logs are attached to the ticket now.\nThe errors start at 02:00."
    assert comment.via == "email" and comment.author == customer


def test_signature_and_outlook_header_are_stripped(runner, case, customer):
    body = ("Restarted the appliance, same result.\n\nSent from my phone\n\n"
            "From: Support Center <support@localhost>\nSent: Monday\nSubject: case\n\nold text")
    body = body.replace("Sent from my phone", "Sent from my iPhone")
    assert mail_in(runner, plain_reply(case, customer.email, body)).exit_code == 0
    assert comments(case)[0].body == "Restarted the appliance, same result."


def test_multipart_alternative_uses_the_plain_part(runner, case, customer):
    message = MIMEMultipart("alternative")
    message["From"] = customer.email
    message["To"] = f"Support <{notify.reply_address(case, customer)}>"
    message["Subject"] = "Re: case"
    message.attach(MIMEText("Plain text wins.\n\n> quoted", "plain", "utf-8"))
    message.attach(MIMEText("<p>HTML loses.</p>", "html", "utf-8"))
    assert mail_in(runner, message.as_bytes()).exit_code == 0
    assert comments(case)[0].body == "Plain text wins."


def test_html_only_message_is_turned_into_text(runner, case, customer):
    html = ("<html><head><style>p{color:red}</style></head><body><p>Firmware updated &amp; rebooted.</p>"
            "<p>Still failing<br>at step 3.</p><div class=\"gmail_quote\">On Mon ... wrote:<blockquote>"
            "old stuff</blockquote></div><script>alert(1)</script></body></html>")
    message = MIMEText(html, "html", "utf-8")
    message["From"] = customer.email
    message["To"] = notify.reply_address(case, customer)
    message["Subject"] = "Re: case"
    assert mail_in(runner, message.as_bytes()).exit_code == 0
    body = comments(case)[0].body
    assert body == "Firmware updated & rebooted.\n\nStill failing\nat step 3."


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252"])
def test_non_utf8_messages_are_decoded(runner, case, customer, charset):
    text = "Grüße aus Köln – das Problem ist gelöst, danke!" if charset == "windows-1252" else "Grüße aus Köln, gelöst."
    message = MIMEText(text, "plain", charset)
    message["From"] = customer.email
    message["To"] = notify.reply_address(case, customer)
    message["Subject"] = "Re: case"
    raw = message.as_bytes()
    assert text.encode("utf-8") not in raw  # really encoded in the legacy charset
    result = mail_in(runner, raw)
    assert result.exit_code == 0, result.output
    assert comments(case)[0].body == text


def test_round_trip_from_the_notification_email(client, runner, case, customer, staff, mail_outbox):
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Which build are you on?", "update-send": "reply"})
    [notification] = mail_outbox
    reply = EmailMessage()
    reply["From"] = customer.email
    reply["To"] = notification["Reply-To"]
    reply["Subject"] = "Re: " + str(notification["Subject"])
    reply.set_content("Build 8.0.112.\n\nOn Tue, Support wrote:\n> Which build are you on?\n")
    result = mail_in(runner, bytes(reply))
    assert result.exit_code == 0, result.output
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "Build 8.0.112." in page
    # The staff member (not the sender) hears about the customer's reply only if watching; the opener is the sender.
    assert all(customer.email not in m.envelope_rcpt for m in mail_outbox[1:])


@pytest.mark.parametrize(
    "build,code,reason",
    [
        (lambda case, customer, other: plain_reply(case, other.email, "Let me in", recipient=other), 77, "not allowed"),
        (lambda case, customer, other: plain_reply(case, "nobody@nowhere.example", "Hello"), 77, "someone else"),
        (lambda case, customer, other: plain_reply(case, customer.email, "\n\n> only a quote\n-- \nsig\n"), 65, "no new text"),
        (lambda case, customer, other: plain_reply(case, customer.email, "auto", Auto_Submitted="auto-replied"), 65, "Automatic"),
        (lambda case, customer, other: forge(plain_reply(case, customer.email, "x"), lambda t: t[:-24] + "a" * 24),
         67, "forged"),
        (lambda case, customer, other: forge(plain_reply(case, customer.email, "x"), lambda t: "99999" + t[t.index("-"):]),
         67, "forged"),
        (lambda case, customer, other: plain_reply(case, customer.email, "x").replace(b"case+", b"help+"), 67, "No case reply address"),
        (lambda case, customer, other: b"", 65, "No message"),
        (lambda case, customer, other: plain_reply(case, customer.email, "\x00\x00\n"), 65, "no new text"),
    ],
    ids=["other-organisation", "stranger", "empty-after-stripping", "auto-reply", "forged-token", "token-of-other-number",
         "no-case-address", "nothing-on-stdin", "only-nul-characters"],
)
def test_rejections_exit_non_zero_with_a_reason_and_add_nothing(runner, case, customer, other_customer, build, code, reason):
    result = mail_in(runner, build(case, customer, other_customer))
    assert result.exit_code == code
    assert reason in result.stderr and result.stderr.startswith("Rejected:")
    assert comments(case) == []


def test_message_over_the_size_limit_is_rejected(app, runner, case, customer):
    app.config["MAILIN_MAX_BYTES"] = 2000
    result = mail_in(runner, plain_reply(case, customer.email, "y" * 3000))
    assert result.exit_code == 65 and "limit is 2000 bytes" in result.stderr
    assert comments(case) == []
    assert mail_in(runner, plain_reply(case, customer.email, "small")).exit_code == 0


def test_disabled_sender_is_rejected(runner, case, customer):
    customer.disabled = True
    db.session.commit()
    result = mail_in(runner, plain_reply(case, customer.email, "hi"))
    assert result.exit_code == 77


@pytest.mark.parametrize("char", ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_line_breaking_characters_in_titles_never_reach_a_header(client, customer, mail_outbox, char):
    login(client, customer)
    title = f"Replication{char}stopped{char}Bcc: victim@example.org"
    response = client.post("/cases/new", data={"title": title, "description": "d", "severity": "3"})
    assert response.status_code == 302
    [message] = mail_outbox
    assert message.envelope_rcpt == [customer.email]
    assert message["Bcc"] is None
    assert "Replication stopped Bcc: victim@example.org" in str(message["Subject"])


def test_mail_in_never_crashes_on_odd_messages(app, case, customer):
    """Random bytes, random charsets and broken MIME: a comment or a clear rejection, nothing else."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from kb.cases import mailin

    address = notify.reply_address(case, customer)
    heads = st.sampled_from([
        b"", f"From: {customer.email}\r\nTo: {address}\r\n".encode(),
        f"From: {customer.email}\r\nTo: {address}\r\nContent-Type: text/plain; charset=x-unknown\r\n".encode(),
        f"From: {customer.email}\r\nTo: {address}\r\nContent-Type: multipart/alternative; boundary=zz\r\n".encode(),
        f"From: =?utf-8?q?=FF=FE?= <{customer.email}>\r\nTo: {address}\r\nContent-Transfer-Encoding: base64\r\n".encode(),
        f"From: {customer.email}\r\nTo: {address}\r\nContent-Type: text/html; charset=windows-1252\r\n".encode(),
    ])

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(heads, st.binary(max_size=400))
    def check(head, body):
        try:
            result = mailin.process(head + b"\r\n" + body)
        except mailin.MailRejected as exc:
            assert exc.reason and exc.code in (65, 67, 77)
        else:
            assert result.events[0].body.strip()
        finally:
            db.session.rollback()

    check()
