"""Search analytics: what people look for, what finds nothing, and what nobody opens."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select

from kb.extensions import db
from kb.search.models import SearchClick, SearchQuery
from kb.search.query import normalise
from kb.types import utcnow

log = logging.getLogger(__name__)

PERIODS = {"7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30), "90d": ("Last 90 days", 90), "365d": ("Last year", 365)}
DEFAULT_PERIOD = "30d"


def record_query(text: str, result_count: int) -> int | None:
    """Store one search on its own connection; any failure is logged and ignored."""
    config = current_app.config
    if not config["SEARCH_ANALYTICS_ENABLED"]:
        return None
    query = normalise(text, int(config["SEARCH_ANALYTICS_QUERY_MAX_LENGTH"]))
    if not query:
        return None
    try:
        with db.engine.begin() as conn:
            result = conn.execute(
                insert(SearchQuery.__table__).values(query=query, result_count=int(result_count), created=utcnow())
            )
            return int(result.inserted_primary_key[0])
    except Exception:
        log.warning("search analytics: could not record a query", exc_info=True)
        return None


def record_click(query_id: int | None, url: str, position: int) -> None:
    """Store that a result was opened; any failure is logged and ignored."""
    if not current_app.config["SEARCH_ANALYTICS_ENABLED"]:
        return
    try:
        with db.engine.begin() as conn:
            if query_id is not None and conn.execute(
                select(SearchQuery.id).where(SearchQuery.id == query_id)
            ).first() is None:
                query_id = None
            conn.execute(insert(SearchClick.__table__).values(
                query_id=query_id, url=url[:500], position=max(0, min(int(position), 10_000)), created=utcnow()))
    except Exception:
        log.warning("search analytics: could not record a click", exc_info=True)


@dataclass
class QueryRow:
    query: str
    searches: int
    results: int
    clicks: int


def period_start(period: str) -> datetime:
    return utcnow() - timedelta(days=PERIODS.get(period, PERIODS[DEFAULT_PERIOD])[1])


def report(period: str, limit: int) -> dict[str, list[QueryRow]]:
    """Top queries, zero-result queries, and queries with results that nobody opened."""
    since = period_start(period)
    clicks = (
        select(SearchClick.query_id, func.count(SearchClick.id).label("clicks"))
        .group_by(SearchClick.query_id)
        .subquery()
    )
    base = (
        select(
            SearchQuery.query,
            func.count(SearchQuery.id).label("searches"),
            func.max(SearchQuery.result_count).label("results"),
            func.coalesce(func.sum(clicks.c.clicks), 0).label("clicks"),
        )
        .outerjoin(clicks, clicks.c.query_id == SearchQuery.id)
        .where(SearchQuery.created >= since)
        .group_by(SearchQuery.query)
    )
    rows = [QueryRow(r.query, r.searches, r.results or 0, int(r.clicks or 0)) for r in db.session.execute(base)]
    by_count = sorted(rows, key=lambda r: (-r.searches, r.query))
    return {
        "top": by_count[:limit],
        "zero": [r for r in by_count if r.results == 0][:limit],
        "unopened": [r for r in by_count if r.results > 0 and r.clicks == 0][:limit],
    }
