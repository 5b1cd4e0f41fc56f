"""The SLA sweep: mark unanswered cases at risk or breached and alert staff exactly once per change.

However many sweeps run at once (cron on two hosts, several workers), each step up is claimed
with one conditional UPDATE, never a read-then-write: only the sweep whose UPDATE changed the row
records the event and queues the alert, in the same transaction. On PostgreSQL a second sweep
waits on the first one's row lock and then finds the step already taken. A new clock (another
column and its ladder of states) claims its steps through ``claim_step`` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kb.cases import notify
from kb.cases.clocks import SlaStatus, sla_status, update_status
from kb.cases.models import OPEN_STATUSES, Case, CaseEvent, EventKind
from kb.extensions import db
from kb.templating import duration_words
from kb.types import utcnow

# Each clock (first response, next update): at risk, then breached; a late sweep may jump straight to breached.
ALERT_STEPS = {"": 0, "at_risk": 1, "breached": 2}


@dataclass
class Alert:
    case: Case
    sla: SlaStatus
    recipients: list[str] = field(default_factory=list)
    clock: str = ""  # "" for the first response, "next update" for the update cadence

    def describe(self) -> str:
        status = self.sla
        when = (f"overdue by {duration_words(-status.remaining)}" if status.state == "breached"
                else f"{duration_words(status.remaining)} left")
        what = (f"next update {'overdue' if status.state == 'breached' else 'at risk'}" if self.clock
                else status.label.lower())
        return (f"Case #{self.case.number}: {what} ({when}); "
                f"emailed {', '.join(self.recipients) or 'nobody (no staff accounts)'}")


def claim_step(case: Case, column, state: str, steps: dict[str, int]) -> bool:
    """Move ``case.<column>`` up to ``state`` if no sweep got there first; True for the one that did."""
    lower = [name for name, rank in steps.items() if rank < steps[state]]
    condition = or_(column.is_(None), column.in_(lower)) if "" in lower else column.in_(lower)
    result = db.session.execute(
        update(Case).where(Case.id == case.id, condition).values({column.key: state})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(case, column.key, state)
    return True


def sweep(now: datetime | None = None) -> tuple[int, list[Alert]]:
    """Check every open, unanswered case and queue each new alert; returns (cases checked, alerts). Caller commits."""
    now = now or utcnow()
    query = (
        select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.first_response_at.is_(None))
        .options(selectinload(Case.organization), selectinload(Case.assignee))
        .order_by(Case.id)
    )
    checked, alerts = 0, []
    for case in db.session.scalars(query).all():
        checked += 1
        status = sla_status(case, now)
        if status.state not in ("at_risk", "breached"):
            continue
        if ALERT_STEPS[status.state] <= ALERT_STEPS.get(case.sla_alerted_state or "", 0):
            continue  # cheap pre-check on what we read; claim_step decides under concurrency
        if not claim_step(case, Case.sla_alerted_state, status.state, ALERT_STEPS):
            continue
        db.session.add(CaseEvent(case=case, kind=EventKind.SLA, new_value=status.state, via="sweep", created_at=now))
        subject, body = notify.sla_alert_text(case, status.state, status.remaining)
        alerts.append(Alert(case, status, notify.send_staff_alert(case, subject, body)))
    return checked, alerts


def sweep_updates(now: datetime | None = None) -> tuple[int, list[Alert]]:
    """Check every answered case whose update clock runs; queue an alert once per at-risk or overdue step.

    Separate from the first-response sweep so each clock keeps its own remembered state
    (``update_alerted_state``, cleared whenever a public staff reply restarts the clock); its steps
    are claimed the same way, so racing sweeps alert once.
    """
    now = now or utcnow()
    query = (
        select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.first_response_at.is_not(None),
               Case.next_update_due_at.is_not(None))
        .options(selectinload(Case.organization), selectinload(Case.assignee))
        .order_by(Case.id)
    )
    checked, alerts = 0, []
    for case in db.session.scalars(query).all():
        checked += 1
        status = update_status(case, now)
        if status is None or status.state not in ("at_risk", "breached"):
            continue
        if ALERT_STEPS[status.state] <= ALERT_STEPS.get(case.update_alerted_state or "", 0):
            continue
        if not claim_step(case, Case.update_alerted_state, status.state, ALERT_STEPS):
            continue
        db.session.add(CaseEvent(case=case, kind=EventKind.SLA, old_value="update", new_value=status.state,
                                 via="sweep", created_at=now))
        subject, body = notify.update_alert_text(case, status.state, status.remaining)
        alerts.append(Alert(case, status, notify.send_staff_alert(case, subject, body), clock="next update"))
    return checked, alerts


def summary(checked: int, alerts: list[Alert], update_checked: int = 0, update_alerts: list[Alert] = ()) -> str:
    return (f"Checked {checked} open unanswered case{'s' if checked != 1 else ''}; "
            f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} queued; "
            f"checked {update_checked} answered case{'s' if update_checked != 1 else ''} for updates; "
            f"{len(update_alerts)} update alert{'s' if len(update_alerts) != 1 else ''} queued")


def sweep_task() -> str | None:
    """The worker's periodic SLA sweep (first responses, then update cadence); it commits after this returns."""
    checked, alerts = sweep()
    update_checked, update_alerts = sweep_updates()
    every = alerts + update_alerts
    return "; ".join([alert.describe() for alert in every] + [summary(checked, alerts, update_checked, update_alerts)]) if every else None
