"""Case email: public updates to watchers with a signed reply address, alerts to staff.

Called after the commit succeeded. Internal notes and other staff-only events are never mailed
to customers: only the kinds in PUBLIC_MAIL_KINDS reach watchers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from flask import current_app, url_for
from sqlalchemy import select

from kb.accounts.models import Role, User
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseEvent, CaseStatus, EventKind
from kb.cases.permissions import can_see_case
from kb.extensions import db
from kb.mail import send_mail
from kb.templating import duration_words

PUBLIC_MAIL_KINDS = (EventKind.COMMENT, EventKind.STATUS, EventKind.SEVERITY, EventKind.ESCALATION)
_TOKEN = re.compile(r"^(\d{1,18})-([0-9a-f]{24})$")


def _mac(number: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"kb-case-reply:{number}".encode(), hashlib.sha256).hexdigest()[:24]


def reply_token(case: Case) -> str:
    """Case number plus an HMAC of it: unguessable without the site's secret key."""
    return f"{case.number}-{_mac(case.number)}"


def reply_address(case: Case) -> str:
    return f"case+{reply_token(case)}@{current_app.config['MAIL_REPLY_DOMAIN']}"


def number_from_token(token: str) -> int | None:
    """The case number a genuine token names; None for a malformed or forged one."""
    match = _TOKEN.match((token or "").strip().lower())
    if not match:
        return None
    number = int(match.group(1))
    return number if hmac.compare_digest(match.group(2), _mac(number)) else None


def case_url(case: Case) -> str:
    try:
        return url_for("cases.detail", number=case.number, _external=True)  # on KB_SITE_URL when set
    except RuntimeError:  # outside a request with no KB_SITE_URL: a path is all we can give
        return f"/cases/{case.number}"


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
    return list(db.session.scalars(
        select(User).where(User.role.in_([Role.STAFF, Role.ADMIN]), User.disabled.is_(False)).order_by(User.id)
    ))


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
        return f"{who} wrote:\n\n{event.body}"
    return ""


def _footer(case: Case) -> str:
    return (
        f"\n\n--\nCase #{case.number}: {case.title}\n{case_url(case)}\n"
        "Reply to this email to add a comment to the case. Write your reply above the quoted text."
    )


def send_public_update(case: Case, events: list[CaseEvent], actor: User | None) -> int:
    """Email the watchers about public events; returns how many messages were sent."""
    events = [event for event in events if event is not None and event.kind in PUBLIC_MAIL_KINDS]
    if not events:
        return 0
    body = "\n\n".join(describe(event) for event in events) + _footer(case)
    return _send_each(watcher_recipients(case, exclude=actor), _subject(case), body, case)


def send_case_opened(case: Case, sla_text: str) -> int:
    """Confirm a new case to its watchers with the first-response target."""
    body = (
        f"We have received your {severity_info.label(case.severity).lower()} case "
        f"\"{case.title}\".\n\n{sla_text}\n\nAdd anything that helps us (logs, screenshots, "
        "what changed recently) by replying to this email or on the case page." + _footer(case)
    )
    return _send_each(watcher_recipients(case), _subject(case, f"Received: {case.title}"), body, case)


def _send_each(users: list[User], subject: str, body: str, case: Case) -> int:
    # One message per person: a reply then comes from a single known address.
    sent = 0
    for user in users:
        if send_mail([user.email], subject, body, reply_to=reply_address(case), headers=_thread_headers(case)):
            sent += 1
    return sent


def send_staff_alert(case: Case, subject: str, body: str) -> list[str]:
    """Alert the assignee (or all staff); returns the addresses written to."""
    recipients = [user.email for user in staff_recipients(case)]
    if recipients:
        send_mail(recipients, _subject(case, subject), body + _footer(case), headers=_thread_headers(case))
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
