"""The staff composer: one submit that replies (or notes) and sets status, severity and assignee.

Plain functions that add to the session; the view commits once and then mails the public events.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.accounts.models import User
from kb.cases import actions
from kb.cases.models import Case, CaseEvent, CaseStatus

REPLY, NOTE = "reply", "note"


@dataclass
class StaffUpdate:
    """What the composer asked for; empty values mean "leave as it is"."""

    body: str = ""
    mode: str = REPLY
    status: str = ""
    severity: str = ""
    severity_reason: str = ""
    assign: bool = False  # whether the assignee choice differs from the case
    assignee: User | None = None


def check(update: StaffUpdate, case: Case) -> dict[str, str]:
    """Field errors (field name -> message) before anything is changed; empty when the update can go ahead."""
    errors = {}
    if update.mode not in (REPLY, NOTE):
        errors["body"] = "Choose “Send reply to customer” or “Add internal note”."
    text = actions.clean(update.body).strip()
    changes_severity = update.severity and update.severity != str(case.severity)
    changes = (update.status and update.status != case.status.value) or changes_severity or update.assign
    if not text and not changes:
        errors["body"] = "Write a message, or choose a change to make."
    if update.mode == NOTE and not text and not errors:
        errors["body"] = "An internal note needs some text."
    if changes_severity and not actions.clean(update.severity_reason).strip():
        errors["severity_reason"] = "Say why the severity changes; the customer sees the reason."
    return errors


def apply(update: StaffUpdate, case: Case, author: User) -> list[CaseEvent]:
    """The message first, then severity, assignee and status; returns every event recorded (CaseError on refusal)."""
    events: list[CaseEvent] = []
    text = actions.clean(update.body).strip()
    if text:
        events += actions.add_comment(case, author, text, internal=update.mode == NOTE)
    if update.severity and update.severity != str(case.severity):
        event = actions.change_severity(case, author, update.severity, update.severity_reason)
        events.append(event)
    if update.assign:
        event = actions.assign(case, author, update.assignee)
        if event is not None:
            events.append(event)
    if update.status and update.status != case.status.value:
        event = actions.change_status(case, author, CaseStatus(update.status))
        if event is not None:
            events.append(event)
    return [event for event in events if event is not None]


def button_label(mode: str, status: str = "") -> str:
    """'Send reply to customer', 'Send and set to Waiting on customer', 'Add internal note'."""
    if mode == NOTE:
        return "Add internal note"
    if status:
        return f"Send and set to {CaseStatus(status).label}"
    return "Send reply to customer"
