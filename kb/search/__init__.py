"""Search: the boundary every feature uses. Only kb/search/engines/whoosh/ imports Whoosh.

Features call ``register_kind`` once in their init_app; after that every committed change to a
watched model reaches the index by itself. Pages call ``search`` and ``suggest``.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from kb import page_cache
from kb.hooks import (
    register_health_check,
    register_init_step,
    register_metric,
    register_periodic,
    register_stylesheet,
)
from kb.search import analytics, indexing, outbox, settings
from kb.search.api import (
    SearchResults,
    check,
    drain,
    index,
    rebuild,
    remove,
    search,
    suggest,
)
from kb.search.documents import SearchDoc, viewer_visibility
from kb.search.engine import engine_for
from kb.search.indexing import CheckReport, register_kind
from kb.search.views import bp

__all__ = [
    "CheckReport",
    "SearchDoc",
    "SearchResults",
    "bp",
    "check",
    "drain",
    "index",
    "init_app",
    "rebuild",
    "register_kind",
    "remove",
    "search",
    "suggest",
    "viewer_visibility",
]


def _health() -> None:
    engine_for(current_app._get_current_object()).health()


def _init_step() -> str:
    app = current_app._get_current_object()
    engine = engine_for(app)
    reason = engine.rebuild_reason()
    if reason is None and outbox.out_of_date(engine.consumer(), float(app.config["SEARCH_OUTBOX_RETENTION_HOURS"])):
        reason = "this host's index was away longer than the outbox keeps changes"
    if reason is not None:
        empty = engine.count() == 0
        count = indexing.rebuild(app)
        return f"Indexed {count} documents." if empty else f"Rebuilt the search index: {reason} ({count} documents)."
    applied = indexing.drain(app)
    return f"The index is in place ({engine.count()} documents, {applied} just updated)."


def _outbox_backlog() -> int:
    """Outbox rows this host's index has not applied yet."""
    return indexing.pending_count()


def _catch_up_task() -> str | None:
    """Apply outbox rows a busy writer left behind, so the index is complete even on a quiet site."""
    applied = indexing.drain(current_app._get_current_object())
    return f"{applied} documents updated" if applied else None


def _count_terms_task() -> str | None:
    """The PostgreSQL engine's document frequencies drift as documents change: count them again."""
    engine = engine_for(current_app._get_current_object())
    counter = getattr(engine, "count_terms", None)
    return f"{counter()} words counted" if counter is not None else None


def init_app(app: Flask) -> None:
    from kb.search.cli import reindex_command, search_check_command

    settings.apply(app.config)
    engine_for(app)  # a wrong KB_SEARCH_ENGINE fails at start-up; the engine sets itself up here
    indexing.state(app)
    indexing.install_listeners()
    app.register_blueprint(bp)
    # The outage case: hundreds of signed-out visitors sending the same query. Each still counts.
    page_cache.register_page(app, "search.results", "articles", "forums", seconds_setting="SEARCH_PAGE_CACHE_SECONDS",
                             in_view=True)
    page_cache.register_fragment(app, "search-query", analytics.record_query)
    app.cli.add_command(reindex_command)
    app.cli.add_command(search_check_command)
    register_health_check(app, "search", _health)
    register_init_step(app, "search.index", "Building the search index", _init_step)
    register_stylesheet(app, "search")
    register_periodic(app, "Search index catch-up", "SEARCH_DRAIN_INTERVAL", _catch_up_task)
    if engine_for(app).name == "postgres":
        register_periodic(app, "Search word counts", "SEARCH_POSTGRES_TERMS_INTERVAL", _count_terms_task)
    register_metric(app, "kb_search_outbox_pending", "Index changes written but not yet applied to the index.",
                    _outbox_backlog)

    @app.before_request
    def _catch_up_index():
        if request.endpoint != "static":
            indexing.drain_if_due(app)
