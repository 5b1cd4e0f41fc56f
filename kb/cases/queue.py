"""The staff queue: open cases in the order they should be worked, ordered and paginated in SQL.

The order, as the queue page states it:
1. unanswered cases, soonest first-response breach first (overdue ones lead), then severity;
2. answered cases waiting on the support team, escalated first, then by when the next update is due;
3. cases waiting on the customer, by severity.
Escalation lifts a case within its group only, so it never outranks an unanswered case closer to
breach. Remaining ties go to Premium, then to the oldest case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case as when, func, select
from sqlalchemy.orm import selectinload

from kb.accounts.models import Organization, Plan
from kb.cases.clocks import SlaStatus, sla_status, update_status
from kb.cases.models import OPEN_STATUSES, Case, CaseStatus
from kb.extensions import db
from kb.paging import ListPage
from kb.types import utcnow

SLA_FILTERS = ("breached", "at_risk", "on_track", "responded")
GROUP_LABELS = {0: "Not answered yet", 1: "Waiting on support", 2: "Waiting on the customer"}
# Filters decided by the clock's fraction left, which SQL cannot compute on a business-hours clock.
_COMPUTED_FILTERS = ("at_risk", "on_track")


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    sla: SlaStatus
    update: SlaStatus | None = None

    @property
    def group(self) -> int:
        return queue_group(self.case)


def queue_group(case: Case) -> int:
    """0 unanswered, 1 waiting on support, 2 waiting on the customer (the same rule as the SQL below)."""
    if case.status is CaseStatus.WAITING:
        return 2
    return 0 if case.first_response_at is None else 1


def _group_expression():
    return when((Case.status == CaseStatus.WAITING, 2), (Case.first_response_at.is_(None), 0), else_=1)


def _order(group) -> list:
    escalated = Case.escalated_at.is_not(None)
    return [
        group,
        when((and_(group == 1, escalated), 0), else_=1),
        when((group == 0, Case.response_due_at), (group == 1, Case.next_update_due_at), else_=None).asc().nulls_last(),
        Case.severity,
        when((escalated, 0), else_=1),
        when((Organization.plan == Plan.PREMIUM, 0), else_=1),
        Case.created_at,
        Case.id,
    ]


def queue_query(filters: dict | None = None, viewer=None, now: datetime | None = None):
    """The ordered SELECT of open cases matching the filters (severity, status, assignee, plan, sla, escalated)."""
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
    wanted = filters.get("sla")
    if wanted == "responded":
        query = query.where(Case.first_response_at.is_not(None))
    elif wanted == "breached":
        query = query.where(Case.first_response_at.is_(None), Case.response_due_at < now)
    elif wanted in _COMPUTED_FILTERS:
        query = query.where(Case.first_response_at.is_(None), Case.response_due_at >= now)
    return query.order_by(*_order(_group_expression()))


def _entry(case: Case, now: datetime) -> QueueEntry:
    return QueueEntry(case, sla_status(case, now), update_status(case, now))


def queue(filters: dict | None = None, viewer=None, now: datetime | None = None) -> list[QueueEntry]:
    """Every open case matching the filters, most urgent first (for small lists and tests; pages use queue_page)."""
    now = now or utcnow()
    entries = [_entry(case, now) for case in db.session.scalars(queue_query(filters, viewer, now))]
    wanted = (filters or {}).get("sla")
    if wanted in _COMPUTED_FILTERS:
        entries = [e for e in entries if e.sla.state == wanted]
    return entries


def queue_page(filters: dict, viewer, page: int, per_page: int, now: datetime | None = None):
    """One page of the queue; only the cases on it are loaded and have their clocks computed.

    The database sorts narrow rows (ids) and counts them; the page's cases are then loaded by id.
    """
    now = now or utcnow()
    if filters.get("sla") in _COMPUTED_FILTERS:
        return ListPage(queue(filters, viewer, now), page, per_page)
    ids = queue_query(filters, viewer, now).with_only_columns(Case.id)
    total = db.session.scalar(select(func.count()).select_from(ids.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    wanted = list(db.session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    loaded = {c.id: c for c in db.session.scalars(
        select(Case).where(Case.id.in_(wanted)).options(selectinload(Case.organization), selectinload(Case.assignee)))}
    return ListPage([_entry(loaded[i], now) for i in wanted if i in loaded], page, per_page, total=total)


def queue_counts(now: datetime | None = None) -> dict[str, int]:
    """Open, at-risk, overdue (first response and update) and unassigned cases; all but at-risk counted in SQL."""
    now = now or utcnow()
    open_cases = Case.status.in_(OPEN_STATUSES)

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(Case.id)).where(open_cases, *conditions)) or 0

    running = db.session.scalars(
        select(Case).where(open_cases, Case.first_response_at.is_(None), Case.response_due_at >= now)
        .options(selectinload(Case.organization))
    )
    return {
        "open": count(),
        "at_risk": sum(1 for c in running if sla_status(c, now).state == "at_risk"),
        "breached": count(Case.first_response_at.is_(None), Case.response_due_at < now),
        "update_overdue": count(Case.status != CaseStatus.WAITING, Case.next_update_due_at < now),
        "unassigned": count(Case.assignee_id.is_(None)),
    }
