"""Per-process stores: least recently used entries go first once a store is full."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Entry:
    body: str
    mimetype: str
    counters: dict[str, int]  # the change counters of the kinds the page shows, when it was rendered
    expires: float  # monotonic seconds
    modified: datetime
    etag: str
    csrf: bool  # the body holds the CSRF placeholder
    fragments: dict[str, dict] = field(default_factory=dict)  # per-response parts: name -> what fills them
    private: bool = False  # kept for one signed-in user


class LruStore:
    """At most ``size`` values; a lookup makes its entry the most recently used."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def discard(self, key) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class PageStore(LruStore):
    """Rendered pages, each with an end time and the change counters it was rendered under."""

    def get(self, key: str, counters: dict[str, int]) -> Entry | None:
        """The page under ``key`` unless it expired or a kind it shows changed since it was rendered."""
        entry = super().get(key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic() or any(counters.get(kind, 0) != value
                                                     for kind, value in entry.counters.items()):
            self.discard(key)
            return None
        return entry
