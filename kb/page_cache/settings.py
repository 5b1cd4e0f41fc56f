"""Defaults for the anonymous page cache; each can be overridden by a KB_<KEY> environment variable."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # How long a rendered page may be served to signed-out visitors at most (0 turns the cache off);
    # a change to what it shows ends it sooner, within PAGE_CACHE_CHECK_SECONDS on every worker.
    "PAGE_CACHE_SECONDS": 60,
    "PAGE_CACHE_SIZE": 500,  # pages kept per worker process (tens of kB each), least recently used dropped first
    "PAGE_CACHE_CHECK_SECONDS": 1.0,  # how often a worker reads the change counters
    # How long a page kept for one signed-in user (a thread, a case) may be served to them again at
    # most (0 turns this off); a change to what it shows, or to anything of theirs on it, ends it sooner.
    # Pages with a clock on them (SLA due times) end when the clock runs out.
    "PAGE_CACHE_SIGNED_IN_SECONDS": 30,
    "PAGE_CACHE_SIGNED_IN_SIZE": 1000,  # such pages kept per worker process, least recently used dropped first
    # Rendered pieces of signed-in pages (forum posts) kept per worker process for every
    # viewer who sees them alike (0 renders each piece every time). At most this many pieces of at most
    # a post's rendered size each (a few kB usually; FORUMS_POST_MAX_LENGTH bounds it).
    "PAGE_PIECES_SIZE": 2000,
    # Search result pages for signed-out visitors (the same query hundreds of times during an outage).
    "SEARCH_PAGE_CACHE_SECONDS": 30,
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
