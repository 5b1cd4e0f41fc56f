"""The SLA sweep: mark unanswered cases at risk or breached and tell staff once per change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.cases.clocks import SlaStatus, sla_status, update_status
from kb.cases.models import OPEN_STATUSES, Case, CaseEvent, EventKind
from kb.extensions import db
from kb.types import utcnow

_RANK = {"": 0, "at_risk": 1, "breached": 2}


@dataclass
class Alert:
    case: Case
    sla: SlaStatus
    recipients: list[str] = field(default_factory=list)


def sweep(now: datetime | None = None) -> tuple[int, list[Alert]]:
    """Check every open, unanswered case; returns (cases checked, alerts to send). Caller commits."""
    now = now or utcnow()
    query = (
        select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.first_response_at.is_(None))
        .options(selectinload(Case.organization), selectinload(Case.assignee))
        .order_by(Case.id)
    )
    checked, alerts = 0, []
    for case in db.session.scalars(query):
        checked += 1
        status = sla_status(case, now)
        if status.state not in ("at_risk", "breached"):
            continue
        # Only a step up counts: at risk, then breached; a sweep that runs late may jump straight to breached.
        if _RANK[status.state] <= _RANK.get(case.sla_alerted_state, 0):
            continue
        case.sla_alerted_state = status.state
        db.session.add(CaseEvent(case=case, kind=EventKind.SLA, new_value=status.state, via="sweep", created_at=now))
        alerts.append(Alert(case, status))
    return checked, alerts


def sweep_updates(now: datetime | None = None) -> tuple[int, list[Alert]]:
    """Check every answered case whose update clock runs; alert at-risk and overdue updates once per state.

    Separate from the first-response sweep so each clock keeps its own remembered state
    (``update_alerted_state``, cleared whenever a public staff reply restarts the clock).
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
    for case in db.session.scalars(query):
        checked += 1
        status = update_status(case, now)
        if status is None or status.state not in ("at_risk", "breached"):
            continue
        if _RANK[status.state] <= _RANK.get(case.update_alerted_state, 0):
            continue
        case.update_alerted_state = status.state
        db.session.add(CaseEvent(case=case, kind=EventKind.SLA, old_value="update", new_value=status.state,
                                 via="sweep", created_at=now))
        alerts.append(Alert(case, status))
    return checked, alerts
