"""What happens to a case: opening, comments, notes, status, severity, escalation, the SLA state.

Plain functions that add to the session; the view, API or CLI commits once and then sends mail.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from kb.accounts.models import User
from kb.accounts.permissions import is_active_staff
from kb.cases import severity as severity_info
from kb.cases import clocks, sla
from kb.cases.clocks import SlaStatus, compute_due, current_policy, org_calendar, sla_status  # noqa: F401
from kb.cases.models import (
    Case,
    CaseEvent,
    CaseStatus,
    CaseWatcher,
    EventKind,
)
from kb.cases.permissions import can_work_case
from kb.extensions import db
from kb.markup import render_post
from kb.types import utcnow


class CaseError(ValueError):
    """A clear, user-facing reason why a case change was refused."""


def policy_context() -> dict:
    """What the policy pages and the case form show: targets, coverage, hours and the questionnaire."""
    policy = current_policy()
    return {
        "rows": severity_info.targets_table(policy),
        "coverage": severity_info.out_of_hours(policy),
        "hours": severity_info.business_hours_text(policy),
        "severities": severity_info.SEVERITIES,
        "questions": severity_info.QUESTIONS,
    }


def clean(text: str | None) -> str:
    """Text as stored: NUL characters dropped (PostgreSQL refuses them in text columns)."""
    return (text or "").replace("\x00", "")


def render(text: str) -> str:
    return render_post(text, current_app.config.get("IMAGE_HOSTS") or ())


def sla_sentence(case: Case, zone: str | None = None) -> str:
    """'Our first response is due by 06 Jan 2026 10:00 GMT (1 business day in business hours).'"""
    from zoneinfo import ZoneInfo

    target = current_policy().target(case.severity, case.organization.plan)
    local = case.response_due_at.astimezone(ZoneInfo(zone or org_calendar(case.organization)[0]))
    return f"Our first response is due by {due_words(local, target)}."


def due_words(local: datetime, target: sla.Target) -> str:
    """'06 Jan 2026 10:00 GMT (1 business day in business hours)': a due time and the target behind it."""
    clock = "around the clock" if target.clock == sla.ELAPSED else "in business hours"
    return f"{local:%d %b %Y %H:%M %Z} ({target.label()} {clock})"


def response_preview(org, zone) -> dict[str, str]:
    """Per severity (as the form's values), the sentence the case form shows before the case is opened."""
    return {
        str(severity): f"If you open it now, our first response is due by {due_words(due.astimezone(zone), target)}."
        for severity, (due, target) in clocks.response_preview(org).items()
    }


def parse_number(value) -> int | None:
    """A case or thread number typed by someone: a positive whole number a database column can hold."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def case_by_number(number, *options) -> Case | None:
    value = parse_number(number)
    if value is None:
        return None
    return db.session.scalar(select(Case).where(Case.number == value).options(*options))


def open_case(opener: User, *, title: str, description: str, severity: int, product_version: str = "",
              product_build: str = "", business_impact: str = "", environment: str = "",
              source: str = "web", now: datetime | None = None) -> Case:
    """Add a new case for the opener's organisation, with its response due time and first watcher."""
    if opener.organization is None:
        raise CaseError("Only members of a customer organisation can open support cases.")
    severity = _severity(severity)
    now = now or utcnow()
    title, description = clean(title).strip(), clean(description)
    case = Case(
        title=title,
        description=description,
        description_html=render(description),
        severity=severity,
        status=CaseStatus.NEW,
        organization=opener.organization,
        opener=opener,
        product_version=clean(product_version).strip(),
        product_build=clean(product_build).strip(),
        business_impact=clean(business_impact),
        environment=clean(environment),
        source=source,
        created_at=now,
        updated_at=now,
    )
    case.response_due_at = compute_due(case)
    db.session.add(case)
    db.session.add(CaseWatcher(case=case, user=opener))
    db.session.flush()
    case.number = case.id + int(current_app.config["CASE_NUMBER_OFFSET"])
    return case


def add_comment(case: Case, author: User, body: str, *, internal: bool = False, via: str = "web",
                now: datetime | None = None, counts_as_response: bool = True) -> list[CaseEvent]:
    """A public comment (or a staff-only note) and any status change it causes, comment first.

    The first public staff comment stops the SLA clock, unless ``counts_as_response`` is false
    (a staff reply by email, see kb.cases.mailin); a customer's answer reopens a waiting case.
    """
    body = clean(body).strip()
    if not body:
        raise CaseError("The comment is empty.")
    if internal and not can_work_case(author, case):
        raise CaseError("Only support staff can add internal notes.")
    now = now or utcnow()
    event = CaseEvent(case=case, kind=EventKind.NOTE if internal else EventKind.COMMENT, author=author,
                      body=body, body_html=render(body), via=via, created_at=now)
    db.session.add(event)
    events = [event]
    if not internal:
        case.updated_at = now
        if author.is_staff:
            if counts_as_response:  # not a staff reply by email, unless the site says so (see mail-in)
                if case.first_response_at is None:
                    case.first_response_at = now
                clocks.start_update_clock(case, now)  # each public staff reply restarts the update cadence
                if case.status is CaseStatus.NEW:
                    events.append(_record_status(case, author, CaseStatus.OPEN, now, via))
        elif case.status is CaseStatus.WAITING:
            # The customer answered: the ball is back with support.
            events.append(_record_status(case, author, CaseStatus.OPEN, now, via))
    return events


def change_status(case: Case, user: User, status: CaseStatus | str, *, now: datetime | None = None) -> CaseEvent | None:
    """Staff set any status; customers may only close a case or reopen a resolved or closed one."""
    try:
        status = CaseStatus(status)
    except ValueError:
        raise CaseError(f"Unknown status {status!r}.") from None
    if status is case.status:
        return None
    if not can_work_case(user, case):
        allowed = status is CaseStatus.CLOSED or (status is CaseStatus.OPEN and not case.is_open)
        if not allowed:
            raise CaseError("You can close the case, or reopen it once it is resolved or closed.")
    return _record_status(case, user, status, now or utcnow(), "web")


def _record_status(case: Case, user: User | None, status: CaseStatus, now: datetime, via: str) -> CaseEvent:
    event = CaseEvent(case=case, kind=EventKind.STATUS, author=user, old_value=case.status.value,
                      new_value=status.value, via=via, created_at=now)
    db.session.add(event)
    previous = case.status
    case.status = status
    case.updated_at = now
    if not status.is_open:
        clocks.stop_update_clock(case)
    elif status is CaseStatus.WAITING:
        clocks.pause_update_clock(case, now)
    elif case.first_response_at is not None:
        # Back from waiting on the customer: resume; reopened after resolution: a fresh clock.
        clocks.start_update_clock(case, now, resume=previous is CaseStatus.WAITING)
    if status is CaseStatus.RESOLVED:
        case.resolved_at = now
        case.summary_handled_at = None
    elif status is CaseStatus.OPEN or status is CaseStatus.NEW:
        case.resolved_at = None
    return event


def change_severity(case: Case, user: User, severity, reason: str = "", *,
                    now: datetime | None = None) -> CaseEvent | None:
    """Staff re-grade a case, saying why (the customer sees the reason); the due times follow."""
    if not can_work_case(user, case):
        raise CaseError("Only support staff can change the severity of a case.")
    severity = _severity(severity)
    if severity == case.severity:
        return None
    reason = clean(reason).strip()
    if not reason:
        raise CaseError("Say why the severity changes; the customer sees the reason.")
    now = now or utcnow()
    event = CaseEvent(case=case, kind=EventKind.SEVERITY, author=user, old_value=str(case.severity),
                      new_value=str(severity), body=reason, body_html=render(reason), created_at=now)
    db.session.add(event)
    case.severity = severity
    case.response_due_at = compute_due(case)
    case.sla_alerted_state = ""
    clocks.refresh_update_due(case)
    case.update_alerted_state = ""
    case.updated_at = now
    return event


def assign(case: Case, user: User, assignee: User | None, *, now: datetime | None = None) -> CaseEvent | None:
    """Record who on the support team is working the case (None: nobody)."""
    if not can_work_case(user, case):
        raise CaseError("Only support staff can assign cases.")
    if assignee is not None and not is_active_staff(assignee):
        raise CaseError("Cases can only be assigned to active support staff.")
    if (assignee.id if assignee else None) == case.assignee_id:
        return None
    event = CaseEvent(case=case, kind=EventKind.ASSIGNMENT, author=user,
                      old_value=case.assignee.display_name[:40] if case.assignee else "",
                      new_value=assignee.display_name[:40] if assignee else "", created_at=now or utcnow())
    db.session.add(event)
    case.assignee = assignee
    if assignee is not None:
        set_watching(case, assignee, True)  # the person working the case hears about customer replies
    return event


def escalate(case: Case, user: User, reason: str, *, now: datetime | None = None) -> CaseEvent:
    """Record a customer's escalation request; it lifts the case in the staff queue."""
    reason = clean(reason).strip()
    if not reason:
        raise CaseError("Tell us why you are escalating, so the right person can act on it.")
    if not case.is_open:
        raise CaseError("Only open cases can be escalated. Reopen the case first.")
    if case.escalated:
        raise CaseError("This case has already been escalated.")
    now = now or utcnow()
    case.escalated_at = now
    case.escalation_reason = reason
    case.updated_at = now
    event = CaseEvent(case=case, kind=EventKind.ESCALATION, author=user, body=reason, body_html=render(reason),
                      created_at=now)
    db.session.add(event)
    return event


def set_watching(case: Case, user: User, watch: bool) -> None:
    existing = db.session.scalar(
        select(CaseWatcher).where(CaseWatcher.case_id == case.id, CaseWatcher.user_id == user.id)
    )
    if watch and existing is None:
        db.session.add(CaseWatcher(case=case, user=user))
    elif not watch and existing is not None:
        db.session.delete(existing)


def is_watching(case: Case, user) -> bool:
    return any(w.user_id == getattr(user, "id", None) for w in case.watchers)


def public_events(case: Case) -> list[CaseEvent]:
    return [event for event in case.events if not event.internal]


def _severity(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number not in sla.SEVERITIES or isinstance(value, bool):
        raise CaseError("Choose a severity from 1 (most urgent) to 4.")
    return number
