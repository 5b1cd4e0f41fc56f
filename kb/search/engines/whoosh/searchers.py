"""One searcher per process and index directory, refreshed when the index changes."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

from kb.search.engines.whoosh.storage import ensure_index, open_generation

log = logging.getLogger(__name__)


class Holder:
    """The worker's searcher for one index directory, refreshed at most every refresh interval."""

    def __init__(self):
        self.lock = threading.RLock()
        self.name: str | None = None
        self.ix = None
        self.searcher = None
        self.checked = 0.0
        self.cache: dict = {}
        self.term_cache_postings = 1_000_000

    def close(self):
        if self.searcher is not None:
            try:
                self.searcher.close()
            except OSError:  # a searcher on a deleted generation may fail to close; nothing to keep
                log.debug("search: closing an old searcher failed", exc_info=True)
        self.searcher = None


_holders: OrderedDict[str, Holder] = OrderedDict()
_holders_lock = threading.Lock()
_MAX_HOLDERS = 4


def holder_for(root: Path) -> Holder:
    key = str(root)
    with _holders_lock:
        holder = _holders.get(key)
        if holder is None:
            holder = _holders[key] = Holder()
            while len(_holders) > _MAX_HOLDERS:
                _, old = _holders.popitem(last=False)
                old.close()
        _holders.move_to_end(key)
        return holder


def searcher_opened_count() -> int:
    """How many searchers this process has opened (the benchmark checks it stays flat)."""
    return _stats["opened"]


_stats = {"opened": 0, "refreshed": 0}


def expire(root: Path) -> None:
    """Make the next search look for index changes at once (after this process wrote)."""
    holder_for(root).checked = 0.0


def current_searcher(root: Path, refresh_interval: float, term_cache_postings: int = 1_000_000) -> Holder:
    """The process's holder, with a searcher no older than refresh_interval. Call with holder.lock held."""
    holder = holder_for(root)
    holder.term_cache_postings = term_cache_postings
    now = time.monotonic()
    if holder.searcher is not None and now - holder.checked < refresh_interval:
        return holder
    holder.checked = now
    name = ensure_index(root)
    if name != holder.name or holder.searcher is None:
        ix = open_generation(root, name)
        searcher = ix.searcher()
        _stats["opened"] += 1
        holder.close()
        holder.name, holder.ix, holder.searcher, holder.cache = name, ix, searcher, {}
    elif holder.ix.latest_generation() != holder.searcher.reader().generation():
        # Not Searcher.refresh(): Whoosh-Reloaded 2.7.5 reuses segment readers that miss new deletions.
        searcher = holder.ix.searcher()
        _stats["refreshed"] += 1
        holder.close()
        holder.searcher, holder.cache = searcher, {}
    return holder


def health(root: Path, refresh_interval: float) -> int:
    holder = holder_for(root)
    with holder.lock:
        holder = current_searcher(root, refresh_interval)
        return holder.searcher.doc_count()
