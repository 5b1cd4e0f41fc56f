"""What cases put on pages the site owns: the home-page section, an organisation's open cases, the /metrics gauge."""

from __future__ import annotations

from collections import Counter

from flask import render_template
from sqlalchemy import select

from kb.cases.actions import sla_status
from kb.cases.models import OPEN_STATUSES, Case, CaseStatus
from kb.cases.permissions import can_open_case, visible_cases
from kb.cases.queue import queue, queue_counts
from kb.extensions import db


def open_case_counts() -> dict[tuple[int, str], int]:
    """For /metrics: open cases counted by (severity, SLA state), from the same clock the queue uses."""
    return dict(Counter((entry.case.severity, entry.sla.state) for entry in queue()))


def home_context(user) -> dict:
    """Staff: queue counts; organisation members: their open cases; everyone else: nothing."""
    if getattr(user, "is_staff", False):
        return {"show": True, "staff": True, "counts": queue_counts()}
    if not can_open_case(user):
        return {"show": False}
    query = (visible_cases(user).where(Case.status.in_([s for s in CaseStatus if s.is_open]))
             .order_by(Case.updated_at.desc()).limit(5))
    return {"show": True, "staff": False, "entries": [(case, sla_status(case)) for case in db.session.scalars(query)]}


def organization_cases(organization) -> str:
    """The organisation's open cases, for its admin page."""
    cases = db.session.scalars(
        select(Case).where(Case.organization_id == organization.id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.severity, Case.created_at)
    ).all()
    return render_template("cases/_organization_cases.html", cases=cases)
