"""The outbox read by several indexes: each index keeps its own cursor, so every host's index sees
every change, and rows go once every known index has passed them (or after the retention period).

Outbox ids come from a sequence, and on PostgreSQL a transaction may commit after one that took a
later id. So a cursor only moves past a missing id once the row after the gap is older than
SEARCH_OUTBOX_GAP_SECONDS (the missing id's transaction then rolled back or is still open that
long); until then the rows after the gap are applied again on each drain, which is harmless
because a document is always rebuilt from the database. Pruning never deletes the newest row, so
SQLite (which reuses ids above the largest one left) never hands out an id below a cursor.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from kb.extensions import db
from kb.search.models import SearchCursor, SearchOutbox
from kb.types import utcnow


def position(consumer: str) -> int:
    """The last outbox id this index has applied (0 for a new index), registering it if new."""
    found = db.session.get(SearchCursor, consumer)
    if found is None:
        db.session.add(SearchCursor(index_id=consumer, position=0, seen=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:  # another process of this host registered it at the same moment
            db.session.rollback()
        return 0
    return found.position


def _above(consumer: str | None):
    """Outbox rows past this index's cursor (all rows when the engine needs no cursor), in one query."""
    if consumer is None:
        return SearchOutbox.id > 0
    cursor = select(SearchCursor.position).where(SearchCursor.index_id == consumer).scalar_subquery()
    return SearchOutbox.id > func.coalesce(cursor, 0)


def pending_count(consumer: str | None) -> int:
    """Outbox rows this index has not applied yet."""
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SearchOutbox.__table__)
                            .where(_above(consumer))).scalar_one()


def has_pending(consumer: str | None) -> bool:
    """One indexed query: runs on requests (see SEARCH_DRAIN_INTERVAL)."""
    with db.engine.connect() as conn:
        return conn.execute(select(SearchOutbox.id).where(_above(consumer)).limit(1)).first() is not None


def rows_after(start: int, limit: int) -> list:
    return db.session.execute(
        select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.doc_id, SearchOutbox.created)
        .where(SearchOutbox.id > start).order_by(SearchOutbox.id).limit(limit)
    ).all()


def advanced(start: int, rows, gap_seconds: float) -> int:
    """How far the cursor may move after applying rows (ascending ids above start): up to the
    first missing id whose successor is younger than gap_seconds."""
    limit = utcnow() - timedelta(seconds=gap_seconds)
    current = start
    for row in rows:
        if row.id != current + 1 and row.created > limit:
            break
        current = row.id
    return current


def committed_between(low: int, high: int) -> bool:
    """Whether a row with an id between these two has committed (a gap that has since filled)."""
    with db.engine.connect() as conn:
        return conn.execute(select(SearchOutbox.id).where(SearchOutbox.id > low, SearchOutbox.id < high)
                            .limit(1)).first() is not None


def move(consumer: str, new_position: int) -> None:
    """Move the cursor forward (never back: another process of this host may be ahead) and mark
    the index as alive."""
    db.session.execute(update(SearchCursor).where(SearchCursor.index_id == consumer)
                       .values(seen=utcnow()))
    db.session.execute(update(SearchCursor).where(and_(SearchCursor.index_id == consumer,
                                                       SearchCursor.position < new_position))
                       .values(position=new_position))


def prune(retention_hours: float) -> None:
    """Delete rows every index seen within the retention period has passed, and rows older than
    it; the newest row always stays."""
    cutoff = utcnow() - timedelta(hours=retention_hours)
    newest = db.session.scalar(select(func.max(SearchOutbox.id)))
    if newest is None:
        return
    floor = db.session.scalar(select(func.min(SearchCursor.position)).where(SearchCursor.seen >= cutoff))
    below = min(floor or 0, newest)
    db.session.execute(delete(SearchOutbox).where(SearchOutbox.id <= below, SearchOutbox.id < newest))
    db.session.execute(delete(SearchOutbox).where(SearchOutbox.created < cutoff, SearchOutbox.id < newest))


def out_of_date(consumer: str | None, retention_hours: float) -> bool:
    """Whether this index was away longer than the retention period (rows it needed may be gone)."""
    if consumer is None:
        return False
    found = db.session.get(SearchCursor, consumer)
    return found is not None and found.seen < utcnow() - timedelta(hours=retention_hours)


def rebuilt(consumer: str | None) -> None:
    """A rebuilt index read the database afresh: it counts as alive again."""
    if consumer is not None:
        position(consumer)
        db.session.execute(update(SearchCursor).where(SearchCursor.index_id == consumer).values(seen=utcnow()))
        db.session.commit()
