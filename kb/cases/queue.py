"""The staff queue: open cases in the order they should be worked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.accounts.models import Organization, Plan
from kb.cases.actions import SlaStatus, sla_status
from kb.cases.models import OPEN_STATUSES, Case, CaseStatus
from kb.extensions import db
from kb.types import utcnow

SLA_FILTERS = ("breached", "at_risk", "on_track", "responded")


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    sla: SlaStatus

    def sort_key(self) -> tuple:
        """Breached first, then escalated, then severity, time left, plan (premium first) and age."""
        time_left = self.sla.remaining.total_seconds() if self.sla.running else float("inf")
        return (
            0 if self.sla.state == "breached" else 1,
            0 if self.case.escalated else 1,
            self.case.severity,
            time_left,
            0 if self.case.organization.plan is Plan.PREMIUM else 1,
            self.case.created_at,
            self.case.id,
        )


def queue(filters: dict | None = None, viewer=None, now: datetime | None = None) -> list[QueueEntry]:
    """Open cases matching the filters (severity, status, assignee, plan, sla), most urgent first."""
    filters = filters or {}
    now = now or utcnow()
    query = (
        select(Case)
        .join(Case.organization)
        .where(Case.status.in_(OPEN_STATUSES))
        .options(selectinload(Case.organization), selectinload(Case.assignee))
    )
    if filters.get("severity") in ("1", "2", "3", "4"):
        query = query.where(Case.severity == int(filters["severity"]))
    if filters.get("status") in {s.value for s in OPEN_STATUSES}:
        query = query.where(Case.status == CaseStatus(filters["status"]))
    if filters.get("plan") in {p.value for p in Plan}:
        query = query.where(Organization.plan == Plan(filters["plan"]))
    assignee = filters.get("assignee")
    if assignee == "me" and viewer is not None:
        query = query.where(Case.assignee_id == viewer.id)
    elif assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    if filters.get("escalated") == "yes":
        query = query.where(Case.escalated_at.is_not(None))
    entries = [QueueEntry(case, sla_status(case, now)) for case in db.session.scalars(query)]
    wanted = filters.get("sla")
    if wanted in SLA_FILTERS:
        if wanted == "responded":
            entries = [e for e in entries if e.sla.state in ("met", "missed")]
        else:
            entries = [e for e in entries if e.sla.state == wanted]
    return sorted(entries, key=QueueEntry.sort_key)
