"""What cases put on pages the site owns: the home-page section and the /metrics gauge of open cases."""

from __future__ import annotations

from collections import Counter

from kb.cases.actions import sla_status
from kb.cases.models import Case, CaseStatus
from kb.cases.permissions import can_open_case, visible_cases
from kb.cases.queue import queue
from kb.extensions import db


def open_case_counts() -> dict[tuple[int, str], int]:
    """For /metrics: open cases counted by (severity, SLA state), from the same clock the queue uses."""
    return dict(Counter((entry.case.severity, entry.sla.state) for entry in queue()))


def home_context(user) -> dict:
    """Staff: queue counts; organisation members: their open cases; everyone else: nothing."""
    if getattr(user, "is_staff", False):
        entries = queue()
        counts = {
            "open": len(entries),
            "breached": sum(1 for e in entries if e.sla.state == "breached"),
            "at_risk": sum(1 for e in entries if e.sla.state == "at_risk"),
            "unassigned": sum(1 for e in entries if e.case.assignee_id is None),
        }
        return {"show": True, "staff": True, "counts": counts}
    if not can_open_case(user):
        return {"show": False}
    query = (visible_cases(user).where(Case.status.in_([s for s in CaseStatus if s.is_open]))
             .order_by(Case.updated_at.desc()).limit(5))
    return {"show": True, "staff": False, "entries": [(case, sla_status(case)) for case in db.session.scalars(query)]}
