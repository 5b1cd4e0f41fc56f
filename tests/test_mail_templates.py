"""Every message a user gets: HTML and plain text in the one layout, with why they get it and how to stop."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from kb.cases.reply_marker import MARKER, cut_at_marker
from kb.extensions import db
from tests.cases.conftest import make_case  # noqa: F401  (fixtures of the features whose mail this checks)
from tests.conftest import login
from tests.forums.conftest import categories, make_thread  # noqa: F401


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def assert_layout(message, action_url_part: str, reason: str, stop: str) -> None:
    text, html = parts(message)
    for body in (text, html):
        assert "Support Center" in body and action_url_part in body and reason in body and stop in body
    assert re.search(rf'<a href="[^"]*{re.escape(action_url_part)}', html), "the call to action is a link"


def test_forum_notification(client, mail_outbox, customer, staff, make_thread):
    thread = make_thread(customer)
    login(client, staff)
    client.post(f"/threads/{thread.id}/reply", data={"body": "Check the **journal** <b onclick=x>size</b>."})
    [message] = mail_outbox
    assert_layout(message, f"/threads/{thread.id}-", "you watch the thread", "Stop these emails")
    text, html = parts(message)
    assert "<strong>journal</strong>" in html and "onclick" not in html  # the post's sanitized HTML
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://localhost/forums/unsubscribe/") and unsubscribe[1:-1] in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_password_reset(client, mail_outbox, customer):
    client.post("/reset-password", data={"email": customer.email})
    [message] = mail_outbox
    assert_layout(message, "/reset-password/", "asked to reset the password", "ignore this email")
    assert message["List-Unsubscribe"] is None  # nothing to unsubscribe from


def test_case_update_has_the_reply_marker_and_mail_in_cuts_there(client, runner, make_case, customer, staff, mail_outbox):
    case = make_case(customer, title="Nightly disconnects")
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Which build are you on?", "update-send": "reply"})
    [message] = mail_outbox
    assert_layout(message, f"/cases/{case.number}", f"you watch case #{case.number}", "Stop emails")
    text, html = parts(message)
    assert text.startswith(MARKER) and MARKER in html
    # A mail program that quotes without "On ... wrote:" and without ">" still loses the history.
    reply = EmailMessage()
    reply["From"] = customer.email
    reply["To"] = message["Reply-To"]
    reply["Subject"] = "Re: " + str(message["Subject"])
    reply.set_content("Build 8.0.112.\n\n" + text)
    result = runner.invoke(args=["mail-in"], input=bytes(reply))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert case.events[-1].body == "Build 8.0.112."


def test_staff_alert_says_why_the_reader_gets_it(client, make_case, customer, staff, admin, mail_outbox):
    case = make_case(customer, title="Down")
    login(client, customer)
    client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "Board meeting tomorrow"})
    alert = next(m for m in mail_outbox if "Escalated" in str(m["Subject"]))
    assert_layout(alert, f"/cases/{case.number}", "nobody is assigned", "Assign the case")
    assert MARKER not in parts(alert)[0]  # staff answer on the case page, not by email


@pytest.mark.parametrize("text, kept", [
    (f"Thanks!\n\n{MARKER}\nold text", "Thanks!\n"),
    (f"Thanks!\n> > {MARKER}\n> old text", "Thanks!"),
    ("No marker here\n> quoted", "No marker here\n> quoted"),
])
def test_cut_at_marker(text, kept):
    assert cut_at_marker(text) == kept
