"""Case email: public updates to watchers, each with a reply address of their own, alerts to staff.

Called before the commit: each message is an outbox row in the same transaction as the change
it reports, and the worker sends it once the change is committed. Internal notes and other
staff-only events are never mailed to customers: only the kinds in PUBLIC_MAIL_KINDS reach watchers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from kb.accounts.models import User
from kb.accounts.permissions import active_staff
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseEvent, CaseStatus, EventKind
from kb.cases.permissions import can_see_case
from kb.cases.urls import case_url
from kb.cases.reply_marker import MARKER
from kb.extensions import db
from kb.mail import send_template
from kb.templating import duration_words
from kb.types import utcnow
from kb.uploads.service import files_of, human_size

PUBLIC_MAIL_KINDS = (EventKind.COMMENT, EventKind.STATUS, EventKind.SEVERITY, EventKind.ESCALATION)
_TOKEN = re.compile(r"^(\d{1,18})-(\d{1,18})-([0-9a-z]{1,12})-([0-9a-f]{24})$")


@dataclass(frozen=True)
class ReplyToken:
    """What a genuine reply address says: which case, issued to whom, and when."""

    number: int
    user_id: int
    issued_at: datetime


def _mac(number: int, user_id: int, issued: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"kb-case-reply:v2:{number}:{user_id}:{issued}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        value, rest = divmod(value, 36)
        text = digits[rest] + text
        if not value:
            return text


def reply_token(case: Case, user: User, now: datetime | None = None) -> str:
    """Case, recipient and issue time, signed: each person's address names who may use it and since when."""
    issued = int((now or utcnow()).timestamp())
    return f"{case.number}-{user.id}-{_base36(issued)}-{_mac(case.number, user.id, issued)}"


def reply_address(case: Case, user: User, now: datetime | None = None) -> str:
    return f"case+{reply_token(case, user, now)}@{current_app.config['MAIL_REPLY_DOMAIN']}"


def read_token(token: str) -> ReplyToken | None:
    """The claims of a genuine token; None for a malformed or forged one (age is the caller's rule)."""
    match = _TOKEN.match((token or "").strip().lower())
    if not match:
        return None
    number, user_id, issued = int(match.group(1)), int(match.group(2)), int(match.group(3), 36)
    if not hmac.compare_digest(match.group(4), _mac(number, user_id, issued)):
        return None
    try:
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return ReplyToken(number, user_id, issued_at)


def _thread_headers(case: Case) -> dict[str, str]:
    root = f"<case-{case.number}@{current_app.config['MAIL_REPLY_DOMAIN']}>"
    return {"References": root, "In-Reply-To": root, "Auto-Submitted": "auto-generated", "X-KB-Case": str(case.number)}


def watcher_recipients(case: Case, exclude: User | None = None) -> list[User]:
    """Watchers who may still see the case (people move between organisations), minus the author."""
    people = []
    for watcher in case.watchers:
        user = watcher.user
        if user is None or user.disabled or (exclude is not None and user.id == exclude.id):
            continue
        if can_see_case(user, case):
            people.append(user)
    return people


def staff_recipients(case: Case) -> list[User]:
    """The assigned staff member, or every active staff member when nobody is assigned."""
    if case.assignee is not None and not case.assignee.disabled:
        return [case.assignee]
    return list(db.session.scalars(active_staff().order_by(User.id)))


def _subject(case: Case, text: str = "") -> str:
    """One header line: every control or line-separator character (\x0b, \x85, \u2028 ...) becomes a space."""
    raw = f"[Case #{case.number}] {text or case.title}"
    flat = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in raw)
    return flat[:250].strip()


def describe(event: CaseEvent) -> str:
    """One public line for a recorded change."""
    who = event.author.display_name if event.author else "Support Center"
    if event.kind is EventKind.STATUS:
        return f"{who} changed the status to {CaseStatus(event.new_value).label}."
    if event.kind is EventKind.SEVERITY:
        change = f"{who} changed the severity from {event.old_value} to {severity_info.label(int(event.new_value))}"
        return f"{change}, because:\n\n{event.body}" if event.body else f"{change}."
    if event.kind is EventKind.ESCALATION:
        return f"{who} escalated the case:\n\n{event.body}"
    if event.kind is EventKind.COMMENT:
        files = files_of("comment", [event.id]) if event.id else []
        listed = "\n\nAttached: " + ", ".join(f"{f.filename} ({human_size(f.size)})" for f in files) if files else ""
        return f"{who} wrote:\n\n{event.body}{listed}"
    return ""


def _case_mail(case: Case, text: str, reason: str, **extra) -> dict:
    """What the mail layout needs for a case message: the text, the call to action, why and how to stop."""
    url = case_url(case, external=True)
    return {"case_number": case.number, "case_title": case.title, "text": text, "action_url": url,
            "action_label": f"Open case #{case.number}", "reason": reason, **extra}


def _watcher_mail(case: Case, text: str) -> dict:
    return _case_mail(
        case, text,
        f"You get this email because you watch case #{case.number}. Reply to it to add a comment to the case.",
        marker=MARKER, stop_text="Stop these emails with the Stop emails button on the case page",
        stop_url=case_url(case, external=True),
    )


def send_public_update(case: Case, events: list[CaseEvent], actor: User | None) -> int:
    """Queue an email to each watcher about public events; returns how many were queued."""
    events = [event for event in events if event is not None and event.kind in PUBLIC_MAIL_KINDS]
    if not events:
        return 0
    body = "\n\n".join(describe(event) for event in events)
    return _send_each(watcher_recipients(case, exclude=actor), _subject(case), body, case)


def send_case_opened(case: Case, sla_text: str) -> int:
    """Confirm a new case to its watchers with the first-response target."""
    body = (
        f"We have received your {severity_info.label(case.severity).lower()} case "
        f"\"{case.title}\".\n\n{sla_text}\n\nAdd anything that helps us (logs, screenshots, "
        "what changed recently) by replying to this email or on the case page."
    )
    return _send_each(watcher_recipients(case), _subject(case, f"Received: {case.title}"), body, case)


def _send_each(users: list[User], subject: str, body: str, case: Case) -> int:
    # One message per person: a reply then comes from a single known address.
    sent = 0
    for user in users:
        if send_template([user.email], "case_message", subject,
                         reply_to=reply_address(case, user),
                         headers=_thread_headers(case), **_watcher_mail(case, body)):
            sent += 1
    return sent


def send_staff_alert(case: Case, subject: str, body: str) -> list[str]:
    """Alert the assignee (or all staff); returns the addresses written to."""
    people = staff_recipients(case)
    recipients = [user.email for user in people]
    if recipients:
        reason = (f"You get this alert because case #{case.number} is assigned to you."
                  if case.assignee is not None and people == [case.assignee] else
                  f"You get this alert because you are on the support staff and nobody is assigned to case #{case.number}.")
        send_template(recipients, "case_message", _subject(case, subject), headers=_thread_headers(case),
                      **_case_mail(case, body, reason, stop_text="Assign the case to stop alerting all staff"))
    return recipients


def send_escalation_alert(case: Case, event: CaseEvent) -> list[str]:
    return send_staff_alert(
        case,
        f"Escalated by {event.author.display_name if event.author else 'the customer'}",
        f"{case.organization.name} escalated this severity {case.severity} case.\n\nReason:\n{event.body}",
    )


def sla_alert_text(case: Case, state: str, remaining, clock: str = "first response") -> tuple[str, str]:
    """Subject and body of a staff alert about the first-response (or next-update) clock."""
    where = f"severity {case.severity} case from {case.organization.name} ({case.organization.plan.value} plan)"
    if state == "breached":
        return f"{clock.capitalize()} overdue", f"The {clock} to this {where} is overdue by {duration_words(-remaining)}."
    share = round(float(current_app.config["CASE_AT_RISK_FRACTION"]) * 100)
    return (
        f"{clock.capitalize()} at risk",
        (f"Less than {share}% of the {clock} target is left for this {where}: "
         f"{duration_words(remaining)} until it is due."),
    )


def update_alert_text(case: Case, state: str, remaining) -> tuple[str, str]:
    return sla_alert_text(case, state, remaining, clock="next update")
