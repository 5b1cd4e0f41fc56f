"""On-site notifications of public case activity, listed with forum activity on /notifications.

``record`` adds one notification per watcher for the public events of one change (before the
commit); internal notes, assignments and sweep marks never notify. Everything is re-checked
against case access when listed, so someone who left the organisation sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from markupsafe import Markup
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import joinedload

from kb import page_cache
from kb.accounts.models import User
from kb.cases.models import Case, CaseEvent, CaseNotification, CaseStatus, CaseWatcher, EventKind
from kb.cases.permissions import can_see_case
from kb.extensions import db
from kb.hooks import NotificationSource
from kb.types import utcnow

_KINDS = {EventKind.COMMENT: "comment", EventKind.STATUS: "status", EventKind.SEVERITY: "severity",
          EventKind.ESCALATION: "escalation"}


def _kind(event: CaseEvent) -> str:
    if event.kind is EventKind.STATUS and event.new_value == CaseStatus.RESOLVED.value:
        return "resolved"
    return _KINDS[event.kind]


def record(case: Case, events: list[CaseEvent], actor: User | None) -> int:
    """Notify the case's watchers (never the actor) of its public events; returns notifications added."""
    public = [e for e in events if e is not None and e.kind in _KINDS]
    if not public:
        return 0
    db.session.flush()  # the events need ids
    watchers = db.session.scalars(
        select(User).join(CaseWatcher, CaseWatcher.user_id == User.id)
        .where(CaseWatcher.case_id == case.id, User.disabled.is_(False))
    ).all()
    added = 0
    for user in watchers:
        if actor is not None and user.id == actor.id or not can_see_case(user, case):
            continue
        for event in public:
            db.session.add(CaseNotification(user_id=user.id, case_id=case.id, event_id=event.id, kind=_kind(event),
                                            actor_id=actor.id if actor else None, created_at=event.created_at))
            added += 1
    return added


def _visible(user):
    """The user's notifications for cases they may still see (staff: all; customers: their organisation's)."""
    query = select(CaseNotification).join(CaseNotification.case).where(CaseNotification.user_id == user.id)
    if not user.is_staff:
        query = query.where(Case.organization_id == (user.organization_id or -1))
    return query


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


@dataclass(frozen=True)
class Item:
    key: str
    created_at: datetime
    unread: bool
    html: str


def newest(user, limit: int) -> list[Item]:
    rows = db.session.scalars(
        _visible(user).options(joinedload(CaseNotification.case), joinedload(CaseNotification.actor),
                               joinedload(CaseNotification.event))
        .order_by(CaseNotification.created_at.desc(), CaseNotification.id.desc()).limit(limit)
    ).all()
    return [Item(f"case:{n.id}", n.created_at, n.read_at is None,
                 Markup(render_template("cases/_notification.html", n=n))) for n in rows]


def mark_read(user, keys: list | None = None) -> None:
    query = update(CaseNotification).where(CaseNotification.user_id == user.id, CaseNotification.read_at.is_(None))
    if keys is not None:
        ids = [int(k.split(":", 1)[1]) for k in keys if str(k).startswith("case:")]
        if not ids:
            return
        query = query.where(CaseNotification.id.in_(ids))
    db.session.execute(query.values(read_at=utcnow()))
    page_cache.viewers_changed([user.id])


def unread_case_ids(user, case_ids: list[int]) -> set[int]:
    """Which of these cases have unread activity for the user (the mark on the case list)."""
    if not case_ids:
        return set()
    return set(db.session.scalars(
        select(CaseNotification.case_id).where(CaseNotification.user_id == user.id, CaseNotification.read_at.is_(None),
                                               CaseNotification.case_id.in_(case_ids)).distinct()))


def mark_case_read(user, case: Case) -> None:
    """Opening a case page reads its notifications. Most views find nothing unread, and then write
    nothing: an UPDATE takes SQLite's one write lock even when it matches no row, so every view of a
    case would otherwise wait for every other writer on the site."""
    unread = (CaseNotification.user_id == user.id, CaseNotification.case_id == case.id,
              CaseNotification.read_at.is_(None))
    if db.session.scalar(select(exists().where(*unread))):
        db.session.execute(update(CaseNotification).where(*unread).values(read_at=utcnow()))
        page_cache.viewers_changed([user.id])


SOURCE = NotificationSource(
    count=lambda user: _count(_visible(user)),
    unread=lambda user: _count(_visible(user).where(CaseNotification.read_at.is_(None))),
    newest=newest,
    mark_read=mark_read,
)
