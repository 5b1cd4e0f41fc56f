"""One app's page-cache rules (which endpoints, which kinds, which models), its stores and its
last reading of the change counters."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from kb.extensions import db
from kb.page_cache import settings
from kb.page_cache.models import ChangeCounter
from kb.page_cache.store import LruStore, PageStore

# What a signed-out visitor's session may hold for a page to be shared: anything else (a login,
# flashes, a vote, a draft) is personal.
SHARED_SESSION_KEYS = frozenset({"csrf_token", "_fresh", "_permanent"})


@dataclass(frozen=True)
class PageRule:
    kinds: tuple[str, ...]
    seconds_setting: str
    in_view: bool  # the view answers hits itself (``cached_response``), after its own rate limit
    signed_in: bool  # also kept per signed-in user
    signed_in_kinds: tuple[str, ...] = ()  # what only signed-in users see there (a linked case)


class CacheState:
    """One app's rules, stores and last reading of the change counters."""

    def __init__(self, size: int, signed_in_size: int):
        self.pages: dict[str, PageRule] = {}
        self.watched: dict[type, set[str]] = {}
        self.viewer_watched: dict[type, str] = {}  # model -> the attribute naming the user it concerns
        self.viewer_version = None  # the user column raised by those changes (viewers.track_viewers)
        self.fillers: dict[str, Callable[..., object]] = {}
        self.store = PageStore(size)
        self.viewer_store = PageStore(signed_in_size)
        self.viewer_values = LruStore(signed_in_size)
        self.values = LruStore(size)
        self.counters: dict[str, int] = {}
        self.read_at = float("-inf")

    def current_counters(self, every: float) -> dict[str, int]:
        """The change counters, read from the database at most once every ``every`` seconds."""
        now = time.monotonic()
        if now - self.read_at >= every:
            self.counters = dict(db.session.execute(select(ChangeCounter.kind, ChangeCounter.value)).all())
            self.read_at = now
        return self.counters

    @staticmethod
    def remembered(store: LruStore, key: tuple, compute: Callable[[], object]):
        """``store``'s value for ``key``, computed and kept on first use."""
        value = store.get(key)
        if value is None:
            value = compute()
            store.put(key, value)
        return value


def state(app: Flask) -> CacheState:
    found = app.extensions.get("kb_page_cache")
    if found is None:
        settings.apply(app.config)
        found = app.extensions["kb_page_cache"] = CacheState(int(app.config["PAGE_CACHE_SIZE"]),
                                                             int(app.config["PAGE_CACHE_SIGNED_IN_SIZE"]))
    return found
