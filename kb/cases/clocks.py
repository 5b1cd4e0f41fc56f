"""The clocks of one case row: the deployment's policy, the organisation's calendar, the SLA state.

The rules themselves are the pure functions of ``kb.cases.sla``; this module feeds them a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from kb.cases import sla
from kb.cases.models import OPEN_STATUSES, Case, CaseStatus
from kb.types import utcnow


def current_policy() -> sla.Policy:
    """The support policy with this deployment's overrides of hours, weekdays and targets."""
    config = current_app.config
    key = (config.get("CASE_BUSINESS_OPENS"), config.get("CASE_BUSINESS_CLOSES"),
           tuple(config.get("CASE_BUSINESS_WEEKDAYS") or ()) or None, repr(config.get("CASE_SLA_TARGETS")),
           repr(config.get("CASE_UPDATE_TARGETS")))
    cache = current_app.extensions.setdefault("kb_cases_policy", {})
    if key not in cache:
        cache.clear()
        cache[key] = sla.make_policy(
            opens=config.get("CASE_BUSINESS_OPENS"),
            closes=config.get("CASE_BUSINESS_CLOSES"),
            weekdays=config.get("CASE_BUSINESS_WEEKDAYS"),
            targets=config.get("CASE_SLA_TARGETS"),
            update_targets=config.get("CASE_UPDATE_TARGETS"),
        )
    return cache[key]


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


def response_preview(org, now: datetime | None = None) -> dict[int, tuple[datetime, sla.Target]]:
    """For the case form: when the first response would be due, per severity, for a case opened now."""
    zone, holidays = org_calendar(org)
    policy = current_policy()
    now = now or utcnow()
    return {
        severity: (sla.response_due(severity, org.plan, now, zone, holidays, policy=policy), policy.target(severity, org.plan))
        for severity in sla.SEVERITIES
    }


def compute_due(case: Case) -> datetime:
    org = case.organization
    zone, holidays = org_calendar(org)
    return sla.response_due(case.severity, org.plan, case.created_at, zone, holidays, policy=current_policy())


@dataclass(frozen=True)
class SlaStatus:
    """The first-response clock of one case at one moment, ready for pages, API and the sweep."""

    state: str  # on_track, at_risk, breached, met, missed, stopped, paused (the update clock only)
    due: datetime | None
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
    "paused": "Paused: waiting on the customer",
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
    return SlaStatus(_running_state(left, due, now), due, due - now, left)


def keep_page_until_due(*statuses: SlaStatus | None) -> None:
    """A page showing running clocks changes by itself when one comes due: cached no longer than that."""
    from kb import page_cache

    for status in statuses:
        if status is not None and status.due is not None and status.state in ("on_track", "at_risk"):
            page_cache.fresh_until(status.due)


def _running_state(fraction: float, due: datetime, now: datetime) -> str:
    if now > due:
        return "breached"
    if fraction < float(current_app.config["CASE_AT_RISK_FRACTION"]):
        return "at_risk"
    return "on_track"


def _update_args(case: Case) -> tuple:
    zone, holidays = org_calendar(case.organization)
    return case.severity, case.organization.plan, zone, holidays


def start_update_clock(case: Case, now: datetime, *, resume: bool = False) -> None:
    """Start the update clock afresh (a public staff reply), or resume it after a pause."""
    if not resume:
        case.update_clock_used = 0
    case.update_clock_started_at = now
    case.update_alerted_state = ""
    refresh_update_due(case)


def refresh_update_due(case: Case) -> None:
    """Recompute when the next update is due (after a severity or plan change); nothing while paused."""
    if case.update_clock_started_at is None:
        case.next_update_due_at = None
        return
    severity, plan, zone, holidays = _update_args(case)
    due = sla.update_due(severity, plan, case.update_clock_started_at, zone, holidays,
                         used=timedelta(seconds=case.update_clock_used or 0), policy=current_policy())
    case.next_update_due_at = due.astimezone(UTC)


def pause_update_clock(case: Case, now: datetime) -> None:
    """The case waits on the customer: keep the clock time used so far, and stop counting."""
    if case.update_clock_started_at is None:
        return
    severity, plan, zone, holidays = _update_args(case)
    used = sla.update_clock_used(severity, plan, case.update_clock_started_at, now, zone, holidays,
                                 used=timedelta(seconds=case.update_clock_used or 0), policy=current_policy())
    case.update_clock_used = int(used.total_seconds())
    case.update_clock_started_at = None
    case.next_update_due_at = None


def stop_update_clock(case: Case) -> None:
    """Resolved or closed: no update is owed."""
    case.update_clock_started_at = None
    case.update_clock_used = 0
    case.next_update_due_at = None
    case.update_alerted_state = ""


def update_status(case: Case, now: datetime | None = None) -> SlaStatus | None:
    """Where the case stands against its next-update target; None before the first response."""
    if case.first_response_at is None:
        return None
    now = now or utcnow()
    if case.status is CaseStatus.WAITING:
        return SlaStatus("paused", None, timedelta(0), 1.0)
    if not case.is_open or case.next_update_due_at is None or case.update_clock_started_at is None:
        return SlaStatus("stopped", None, timedelta(0), 1.0)
    severity, plan, zone, holidays = _update_args(case)
    left = sla.update_fraction_left(severity, plan, case.update_clock_started_at, now, zone, holidays,
                                    used=timedelta(seconds=case.update_clock_used or 0), policy=current_policy())
    due = case.next_update_due_at
    return SlaStatus(_running_state(left, due, now), due, due - now, left)
