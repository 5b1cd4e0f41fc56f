"""The per-process store of rendered pages: least recently used pages go first, each has an end time."""

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


class PageStore:
    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str, counters: dict[str, int]) -> Entry | None:
        """The page under ``key`` unless it expired or a kind it shows changed since it was rendered."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry.expires <= time.monotonic() or any(counters.get(kind, 0) != value
                                                         for kind, value in entry.counters.items()):
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
