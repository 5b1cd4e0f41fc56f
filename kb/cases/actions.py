"""What happens to a case: opening, comments, notes, status, severity, escalation, the SLA state.

Plain functions that add to the session; the view, API or CLI commits once and then sends mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from kb.accounts.models import User
from kb.accounts.permissions import is_active_staff
from kb.cases import severity as severity_info
from kb.cases import sla
from kb.cases.models import (
    OPEN_STATUSES,
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


def current_policy() -> sla.Policy:
    """The support policy with this deployment's overrides of hours, weekdays and targets."""
    config = current_app.config
    key = (config.get("CASE_BUSINESS_OPENS"), config.get("CASE_BUSINESS_CLOSES"),
           tuple(config.get("CASE_BUSINESS_WEEKDAYS") or ()) or None, repr(config.get("CASE_SLA_TARGETS")))
    cache = current_app.extensions.setdefault("kb_cases_policy", {})
    if key not in cache:
        cache.clear()
        cache[key] = sla.make_policy(
            opens=config.get("CASE_BUSINESS_OPENS"),
            closes=config.get("CASE_BUSINESS_CLOSES"),
            weekdays=config.get("CASE_BUSINESS_WEEKDAYS"),
            targets=config.get("CASE_SLA_TARGETS"),
        )
    return cache[key]


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


def org_calendar(org) -> tuple[str, list[str]]:
    """The organisation's zone and holidays, with any unusable entry logged and left out.

    A bad value that slipped into the database (the admin form validates both) must not
    make every page of that organisation's cases fail.
    """
    zone = org.timezone
    try:
        sla.check_zone(zone)
    except ValueError:
        current_app.logger.warning("Organisation %s has an unknown timezone %r; using UTC", org.id, zone)
        zone = "UTC"
    holidays = []
    for item in org.holidays or ():
        try:
            sla.holiday_dates([item])
        except ValueError:
            current_app.logger.warning("Organisation %s has an invalid holiday %r; ignoring it", org.id, item)
            continue
        holidays.append(item)
    return zone, holidays


def compute_due(case: Case) -> datetime:
    org = case.organization
    zone, holidays = org_calendar(org)
    return sla.response_due(case.severity, org.plan, case.created_at, zone, holidays, policy=current_policy())


def sla_sentence(case: Case, zone: str | None = None) -> str:
    """'Our first response is due by 06 Jan 2026 10:00 GMT (1 business day in business hours).'"""
    from zoneinfo import ZoneInfo

    target = current_policy().target(case.severity, case.organization.plan)
    local = case.response_due_at.astimezone(ZoneInfo(zone or org_calendar(case.organization)[0]))
    clock = "around the clock" if target.clock == sla.ELAPSED else "in business hours"
    return f"Our first response is due by {local:%d %b %Y %H:%M %Z} ({target.label()} {clock})."


def parse_number(value) -> int | None:
    """A case or thread number typed by someone: a positive whole number a database column can hold."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def case_by_number(number) -> Case | None:
    value = parse_number(number)
    if value is None:
        return None
    return db.session.scalar(select(Case).where(Case.number == value))


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
            if counts_as_response and case.first_response_at is None:
                case.first_response_at = now
            if counts_as_response and case.status is CaseStatus.NEW:
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
    case.status = status
    case.updated_at = now
    if status is CaseStatus.RESOLVED:
        case.resolved_at = now
        case.summary_handled_at = None
    elif status is CaseStatus.OPEN or status is CaseStatus.NEW:
        case.resolved_at = None
    return event


def change_severity(case: Case, user: User, severity, *, now: datetime | None = None) -> CaseEvent | None:
    """Staff re-grade a case; the response due time follows the new severity from the opening time."""
    if not can_work_case(user, case):
        raise CaseError("Only support staff can change the severity of a case.")
    severity = _severity(severity)
    if severity == case.severity:
        return None
    now = now or utcnow()
    event = CaseEvent(case=case, kind=EventKind.SEVERITY, author=user, old_value=str(case.severity),
                      new_value=str(severity), created_at=now)
    db.session.add(event)
    case.severity = severity
    case.response_due_at = compute_due(case)
    case.sla_alerted_state = ""
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


@dataclass(frozen=True)
class SlaStatus:
    """The first-response clock of one case at one moment, ready for pages, API and the sweep."""

    state: str  # on_track, at_risk, breached, met, missed, stopped
    due: datetime
    remaining: timedelta  # negative once overdue
    fraction_left: float

    @property
    def label(self) -> str:
        return SLA_LABELS[self.state]

    @property
    def running(self) -> bool:
        return self.state in ("on_track", "at_risk", "breached")


SLA_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Overdue",
    "met": "Responded in time",
    "missed": "Responded late",
    "stopped": "Clock stopped",
}


def sla_status(case: Case, now: datetime | None = None) -> SlaStatus:
    """Where the case stands against its first-response target at ``now``."""
    now = now or utcnow()
    due = case.response_due_at
    if case.first_response_at is not None:
        state = "met" if case.first_response_at <= due else "missed"
        return SlaStatus(state, due, due - case.first_response_at, 1.0)
    if case.status not in OPEN_STATUSES:
        return SlaStatus("stopped", due, due - now, 1.0)
    org = case.organization
    zone, holidays = org_calendar(org)
    left = sla.fraction_left(case.severity, org.plan, case.created_at, now, zone, holidays,
                             policy=current_policy())
    if now > due:
        state = "breached"
    elif left < float(current_app.config["CASE_AT_RISK_FRACTION"]):
        state = "at_risk"
    else:
        state = "on_track"
    return SlaStatus(state, due, due - now, left)
