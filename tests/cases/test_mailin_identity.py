"""Who a reply by email is from: per-recipient reply addresses, DMARC/SPF verdicts, repeats, staff replies.

Every message goes through `kb mail-in` as the MTA would run it.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from kb.cases import actions, notify
from kb.cases.models import CaseEvent, CaseStatus, EventKind
from kb.extensions import db
from kb.types import utcnow
from tests.conftest import login


@pytest.fixture
def case(make_case, customer):
    return make_case(customer, title="Sites disconnect nightly")


def reply(case, recipient, sender=None, body="The logs are attached now.", issued=None, **headers) -> bytes:
    """A reply to the notification mailed to ``recipient``, sent by ``sender`` (the recipient unless said)."""
    message = EmailMessage()
    message["From"] = sender or recipient.email
    message["To"] = notify.reply_address(case, recipient, now=issued)
    message["Subject"] = f"Re: [Case #{case.number}] {case.title}"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def mail_in(runner, raw: bytes):
    return runner.invoke(args=["mail-in"], input=raw)


def comments(case) -> list[CaseEvent]:
    db.session.expire_all()
    return [e for e in case.events if e.kind is EventKind.COMMENT]


def refused(result, code: int, reason: str) -> bool:
    return result.exit_code == code and result.stderr.startswith("Rejected:") and reason in result.stderr


# --- reply addresses -----------------------------------------------------------------------


def test_forged_from_of_staff_is_refused_and_the_case_is_untouched(runner, case, customer, staff):
    result = mail_in(runner, reply(case, customer, sender=f"Sam Support <{staff.email}>", body="Fixed, closing."))
    assert refused(result, 77, "sent to someone else"), result.output
    assert comments(case) == []
    assert case.status is CaseStatus.NEW and case.first_response_at is None


def test_forged_from_of_a_coworker_is_refused(runner, case, customer, make_user, org):
    colleague = make_user("customer", org=org, email="carol@acme.example")
    actions.set_watching(case, colleague, True)
    db.session.commit()
    assert refused(mail_in(runner, reply(case, customer, sender=colleague.email)), 77, "sent to someone else")
    assert comments(case) == []
    # The co-worker's own address works for the co-worker.
    assert mail_in(runner, reply(case, colleague)).exit_code == 0
    assert comments(case)[0].author == colleague


def test_each_watcher_can_reply_only_from_their_own_notification(client, runner, case, customer, make_user, org,
                                                                 staff, mail_outbox):
    colleague = make_user("customer", org=org, email="carol@acme.example")
    actions.set_watching(case, colleague, True)
    db.session.commit()
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Which build are you on?", "update-send": "reply"})
    to_alice = next(m for m in mail_outbox if m.envelope_rcpt == [customer.email])
    forwarded = EmailMessage()
    forwarded["From"] = colleague.email
    forwarded["To"] = to_alice["Reply-To"]
    forwarded["Subject"] = "Re: " + str(to_alice["Subject"])
    forwarded.set_content("Build 8.0.112.")
    assert refused(mail_in(runner, bytes(forwarded)), 77, "sent to someone else")
    forwarded.replace_header("From", customer.email)
    assert mail_in(runner, bytes(forwarded)).exit_code == 0
    assert [c.body for c in comments(case)] == ["Which build are you on?", "Build 8.0.112."]


def test_expired_reply_address_is_refused_with_the_case_page_to_use(app, runner, case, customer):
    app.config["MAILIN_TOKEN_MAX_AGE_DAYS"] = 30
    old = reply(case, customer, issued=utcnow() - timedelta(days=31))
    result = mail_in(runner, old)
    assert refused(result, 67, "expired") and "work for 30 days" in result.stderr
    assert f"/cases/{case.number}" in result.stderr
    assert comments(case) == []
    assert mail_in(runner, reply(case, customer, issued=utcnow() - timedelta(days=29))).exit_code == 0
    app.config["MAILIN_TOKEN_MAX_AGE_DAYS"] = 60
    assert mail_in(runner, old.replace(b"attached now", b"attached again")).exit_code == 0


def test_token_of_a_user_who_moved_to_another_organisation_is_refused(runner, case, customer, other_org):
    raw = reply(case, customer)
    customer.organization = other_org
    db.session.commit()
    assert refused(mail_in(runner, raw), 77, "not allowed")
    assert comments(case) == []


def test_token_of_a_disabled_user_is_refused(runner, case, customer):
    raw = reply(case, customer)
    customer.disabled = True
    db.session.commit()
    assert refused(mail_in(runner, raw), 77, "not allowed")


def test_sender_address_matches_without_regard_to_case(runner, case, customer):
    assert mail_in(runner, reply(case, customer, sender="Alice <ALICE@Acme.Example>")).exit_code == 0


def test_two_from_addresses_are_refused(runner, case, customer, staff):
    raw = reply(case, customer, sender=f"{customer.email}, {staff.email}")
    assert refused(mail_in(runner, raw), 77, "exactly one sender")


# --- staff replies by email ----------------------------------------------------------------


def test_staff_reply_by_email_is_a_comment_but_not_the_first_response(runner, case, customer, staff, mail_outbox):
    actions.set_watching(case, staff, True)
    db.session.commit()
    result = mail_in(runner, reply(case, staff, body="We are looking at the logs."))
    assert result.exit_code == 0, result.output
    assert "does not count as the first response" in result.output
    [comment] = comments(case)
    assert comment.author == staff and comment.via == "email"
    assert case.first_response_at is None and case.status is CaseStatus.NEW
    assert actions.sla_status(case).state != "met"
    assert [m.envelope_rcpt for m in mail_outbox] == [[customer.email]]  # the customer still hears it


def test_a_setting_lets_staff_email_count_as_the_first_response(app, runner, case, staff):
    app.config["MAILIN_STAFF_FIRST_RESPONSE"] = True
    actions.set_watching(case, staff, True)
    db.session.commit()
    assert mail_in(runner, reply(case, staff, body="We are looking at the logs.")).exit_code == 0
    db.session.expire_all()
    assert case.first_response_at is not None and case.status is CaseStatus.OPEN


# --- Authentication-Results ----------------------------------------------------------------


@pytest.mark.parametrize("verdict", [
    "mx.support.example; dmarc=fail (p=reject) header.from=acme.example",
    "mx.support.example; spf=fail smtp.mailfrom=alice@acme.example; dkim=none",
    "mx.support.example; dmarc=FAIL",
])
def test_dmarc_or_spf_failure_for_the_sender_domain_refuses(runner, case, customer, verdict):
    result = mail_in(runner, reply(case, customer, Authentication_Results=verdict))
    assert refused(result, 77, "failed") and "acme.example" in result.stderr
    assert comments(case) == []


@pytest.mark.parametrize("verdict", [
    "mx.support.example; dmarc=pass header.from=acme.example",
    "mx.support.example; spf=fail smtp.mailfrom=bounces@lists.example; dmarc=pass header.from=acme.example",
    "mx.support.example; spf=softfail smtp.mailfrom=acme.example",
    "mx.support.example; none",
])
def test_passing_or_unrelated_results_are_accepted(runner, case, customer, verdict):
    assert mail_in(runner, reply(case, customer, Authentication_Results=verdict)).exit_code == 0


def test_a_setting_requires_a_passing_result_from_the_trusted_server(app, runner, case, customer):
    app.config.update(MAILIN_REQUIRE_AUTHENTICATION=True, MAILIN_AUTHSERV_ID="mx.support.example")
    assert refused(mail_in(runner, reply(case, customer)), 77, "No passing DMARC or SPF")
    self_made = reply(case, customer, Authentication_Results="attacker.example; dmarc=pass header.from=acme.example")
    assert refused(mail_in(runner, self_made), 77, "No passing DMARC or SPF")
    spf_other = reply(case, customer, Authentication_Results="mx.support.example; spf=pass smtp.mailfrom=other.example")
    assert refused(mail_in(runner, spf_other), 77, "No passing DMARC or SPF")
    good = reply(case, customer, Authentication_Results="mx.support.example; spf=pass smtp.mailfrom=alice@acme.example")
    assert mail_in(runner, good).exit_code == 0
    assert len(comments(case)) == 1


# --- repeats -------------------------------------------------------------------------------


def test_a_repeated_delivery_is_acknowledged_and_not_added_again(runner, case, customer, mail_outbox):
    raw = reply(case, customer, Message_ID="<abc.123@mail.acme.example>")
    assert mail_in(runner, raw).exit_code == 0
    again = mail_in(runner, raw)
    assert again.exit_code == 0
    assert "Already added" in again.output and "abc.123@mail.acme.example" in again.output
    assert len(comments(case)) == 1


def test_message_ids_are_remembered_per_case(runner, case, customer, make_case):
    second = make_case(customer, title="Another case")
    assert mail_in(runner, reply(case, customer, Message_ID="<same@acme.example>")).exit_code == 0
    assert mail_in(runner, reply(second, customer, Message_ID="<same@acme.example>")).exit_code == 0
    assert len(comments(case)) == 1 and len(comments(second)) == 1


def test_messages_without_a_message_id_are_each_added(runner, case, customer):
    raw = reply(case, customer)
    assert mail_in(runner, raw).exit_code == 0 and mail_in(runner, raw).exit_code == 0
    assert len(comments(case)) == 2


@pytest.mark.parametrize("message_id", [b"<" + b"x" * 400 + b"@acme.example>", b"<caf\xe9\x00@acme.example>"])
def test_long_or_odd_message_ids_are_remembered_too(runner, case, customer, message_id):
    raw = b"Message-ID: " + message_id + b"\n" + reply(case, customer)
    assert mail_in(runner, raw).exit_code == 0
    again = mail_in(runner, raw)
    assert again.exit_code == 0 and "Already added" in again.output
    assert len(comments(case)) == 1
