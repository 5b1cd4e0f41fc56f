"""Who may see and change a case: the one place views, the API, emails and mail-in ask."""

from __future__ import annotations

from sqlalchemy import Select, select

from kb.accounts.permissions import is_staff
from kb.cases.models import Case


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "disabled", False)


def can_open_case(user) -> bool:
    """Only members of an organisation open cases: the case belongs to the organisation's contract."""
    return _active(user) and getattr(user, "organization_id", None) is not None


def can_see_case(user, case: Case | None) -> bool:
    if case is None or not _active(user):
        return False
    return is_staff(user) or (user.organization_id is not None and user.organization_id == case.organization_id)


def can_comment(user, case: Case) -> bool:
    return can_see_case(user, case)


def can_work_case(user, case: Case) -> bool:
    """Staff actions: internal notes, any status, severity, assignment."""
    return _active(user) and is_staff(user) and case is not None


def can_close_or_reopen(user, case: Case) -> bool:
    return can_see_case(user, case)


def can_escalate(user, case: Case) -> bool:
    return can_see_case(user, case) and case.is_open and not case.escalated


def can_link_thread(user, case: Case) -> bool:
    """The case's organisation members and staff may link a forum thread to it."""
    return can_see_case(user, case)


def can_link_this_thread(user, thread) -> bool:
    """Only a thread's author or staff may tie the thread to a case (no one else's question is claimed)."""
    return _active(user) and (is_staff(user) or getattr(thread, "author_id", None) == user.id)


def visible_cases(user) -> Select:
    """Cases this user may list: all for staff, their organisation's for customers, none otherwise."""
    query = select(Case)
    if is_staff(user) and _active(user):
        return query
    org_id = getattr(user, "organization_id", None) if _active(user) else None
    if org_id is None:
        return query.where(Case.id.is_(None))
    return query.where(Case.organization_id == org_id)
