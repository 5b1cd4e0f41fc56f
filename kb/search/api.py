"""The search functions pages and features call; thin wrappers over the engine (kb.search.engine)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import insert

from kb.extensions import db
from kb.search import indexing
from kb.search.documents import viewer_visibility
from kb.search.engine import SearchRequest, engine_for
from kb.search.indexing import CheckReport
from kb.search.models import SearchOutbox
from kb.search.query import parse
from kb.types import utcnow

SORTS = ("relevance", "newest")
FILTER_ALIASES = {"category": "category", "type": "article_type", "article_type": "article_type",
                  "version": "versions", "versions": "versions"}


@dataclass
class SearchResults:
    """One page of results plus what the page needs around them (works with the pager macro)."""

    query: str
    results: list
    total: int
    page: int
    per_page: int
    facets: dict = field(default_factory=dict)
    did_you_mean: str | None = None
    sort: str = "relevance"
    loose: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    def as_json(self) -> dict:
        return {
            "query": self.query,
            "results": [hit.as_json() for hit in self.results],
            "total": self.total,
            "facets": self.facets,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "did_you_mean": self.did_you_mean,
        }


def _normalise_filters(filters: dict | None) -> dict:
    out = {}
    for key, value in (filters or {}).items():
        name = FILTER_ALIASES.get(key)
        if name and isinstance(value, str) and value.strip():
            out[name] = value.strip()[:100]
    return out


def search(query: str, viewer, *, kinds=None, filters: dict | None = None, page: int = 1,
           per_page: int = 10, sort: str = "relevance") -> SearchResults:
    """Search as this viewer: only what viewer_visibility(viewer) allows is counted or shown."""
    config = current_app.config
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), int(config["SEARCH_PER_PAGE_MAX"])))
    sort = sort if sort in SORTS else "relevance"
    kinds = [k for k in (kinds or []) if isinstance(k, str) and k] or None
    parsed = parse(query or "", max_length=int(config["SEARCH_QUERY_MAX_LENGTH"]),
                   max_terms=int(config["SEARCH_QUERY_MAX_TERMS"]),
                   prefix_min=int(config["SEARCH_PREFIX_MIN_LENGTH"]))
    outcome = engine_for(current_app._get_current_object()).search(SearchRequest(
        parsed, viewer_visibility(viewer), kinds=kinds, filters=_normalise_filters(filters),
        page=page, per_page=per_page, sort=sort,
    ))
    return SearchResults(query or "", outcome.hits, outcome.total, page, per_page, outcome.facets,
                         outcome.did_you_mean, sort, outcome.loose)


def suggest(prefix: str, viewer, limit: int = 8, *, kinds=None) -> list[dict]:
    """Titles for the type-ahead: [{title, url, kind}] the viewer may read."""
    config = current_app.config
    limit = max(1, min(int(limit), int(config["SEARCH_SUGGEST_LIMIT"])))
    kinds = [k for k in (kinds or []) if isinstance(k, str) and k] or None
    return engine_for(current_app._get_current_object()).suggest(prefix or "", viewer_visibility(viewer), limit,
                                                                  kinds)


def index(kind: str, ids) -> None:
    """Queue documents for (re)indexing in the current transaction; applied after it commits (or,
    for an engine that writes with the content, written now in the same transaction)."""
    app = current_app._get_current_object()
    if engine_for(app).consumer() is None:
        keys = {(kind, int(i)) for i in ids}
        if keys:
            indexing.write_now(app, db.session, keys)
        return
    rows = [{"kind": kind, "doc_id": int(i), "created": utcnow()} for i in ids]
    if rows:
        db.session.execute(insert(SearchOutbox.__table__), rows)
        db.session.info[indexing.PENDING] = True


def remove(kind: str, ids) -> None:
    """Queue documents for removal; the kind's builder confirms they are gone (returns None)."""
    index(kind, ids)


def rebuild(progress=None) -> int:
    """Rebuild the whole index from the database into a new generation and swap it in."""
    return indexing.rebuild(current_app._get_current_object(), progress)


def check() -> CheckReport:
    """Report documents missing from, stale in, or extra in the index."""
    return indexing.check(current_app._get_current_object())


def drain() -> int:
    """Apply pending index changes now if this process can get the writer."""
    return indexing.drain(current_app._get_current_object())
