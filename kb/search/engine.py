"""The engine protocol: everything the search service (outbox, kinds, search, suggest, views, CLI)
asks of an index, and the plain values that cross it.

The service never sees a library's objects: it hands an engine parsed queries and ``SearchDoc``
values and gets back ``Outcome`` and ``Hit`` values. ``KB_SEARCH_ENGINE`` names the engine;
``engine_for(app)`` returns the app's one instance (created on first use, kept in
``app.extensions``). Engines live under ``kb/search/engines/<name>/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask import Flask
from markupsafe import Markup

from kb.search.documents import SearchDoc
from kb.search.query import ParsedQuery

ENGINES = ("whoosh", "postgres")


@dataclass
class Hit:
    """One result as pages show it. ``facets`` and ``badges`` are whatever the feature filled in."""

    url: str
    title: str
    kind: str
    snippet: Markup
    score: float
    id: int = 0
    category: str = ""
    category_name: str = ""
    tags: list[str] = field(default_factory=list)
    facets: dict[str, list[str]] = field(default_factory=dict)
    badges: list[str] = field(default_factory=list)
    updated: datetime | None = None
    summary: str = ""

    def as_json(self) -> dict:
        return {"url": self.url, "title": self.title, "kind": self.kind, "snippet": str(self.snippet),
                "score": round(self.score, 4)}


@dataclass
class Outcome:
    """One page of hits, the total, facet counts ({facet: {value: count}}) and a correction."""

    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    did_you_mean: str | None
    loose: bool = False


@dataclass
class SearchRequest:
    """What to search for and as whom: ``visibility`` is the viewer's token set, ``filters`` maps
    "category" or a facet name to one value, ``kinds`` limits the document kinds (None: all)."""

    query: ParsedQuery
    visibility: set[str]
    kinds: list[str] | None = None
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"  # or "newest"


class Batch(Protocol):
    """Changes applied together once the batch's context exits without an error."""

    def put(self, doc: SearchDoc) -> None:
        """Index the document, replacing any earlier version with the same kind and id."""

    def remove(self, kind: str, doc_id: int) -> None:
        """Take the document out (nothing happens when it is not indexed)."""


class Engine(Protocol):
    """An index the service keeps in step with the database and searches for viewers."""

    name: str

    def search(self, request: SearchRequest) -> Outcome:
        """Matching documents the viewer may see, ranked, with facet counts and "Did you mean"
        built only from documents the viewer may see."""

    def suggest(self, text: str, visibility: set[str], limit: int, kinds: list[str] | None) -> list[dict]:
        """Type-ahead suggestions ({title, url, kind, excerpt}) the viewer may see: what was typed
        matches words anywhere in a title or in the opening of the body, the last word as a prefix;
        ``excerpt`` is plain text of at most SEARCH_SUGGEST_EXCERPT_CHARS characters."""

    def batch(self) -> AbstractContextManager[Batch | None]:
        """A batch of changes, or None when another process is writing (the caller retries later)."""

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Replace the whole index with these documents, consumed lazily (the caller reports
        progress and reads the database only once the engine is ready); the old index serves until
        it is done. Returns how many were indexed."""

    def digests(self) -> dict[str, str]:
        """doc_key -> doc_digest of every indexed document, for `kb search-check`."""

    def count(self) -> int:
        """How many documents are indexed."""

    def health(self) -> None:
        """Raise when the index cannot be searched."""

    def rebuild_reason(self) -> str | None:
        """Why the index must be rebuilt before it serves (none yet, an old layout), or None."""

    def expire(self) -> None:
        """Make this process's next search look for changes at once (after it wrote)."""

    def consumer(self) -> str | None:
        """The id under which this index reads the outbox with a cursor of its own (one per host's
        index folder), or None for an engine that writes within the content's transaction."""

    def apply(self, connection, docs: list[SearchDoc], removed: list[tuple[str, int]]) -> None:
        """Write changed and removed documents through the content's own connection, in its
        transaction (only called on engines whose consumer() is None; others use the outbox)."""


def _make(app: Flask) -> Engine:
    name = str(app.config.get("SEARCH_ENGINE") or "whoosh").strip().lower()
    if name == "whoosh":
        from kb.search.engines.whoosh import WhooshEngine

        return WhooshEngine(app.config)
    if name == "postgres":
        from kb.search.engines.postgres import PostgresEngine

        return PostgresEngine(app)
    raise RuntimeError(f"KB_SEARCH_ENGINE={name!r} is not a search engine; choose one of: {', '.join(ENGINES)}.")


def engine_for(app: Flask) -> Engine:
    """The app's engine, created on first use from KB_SEARCH_ENGINE."""
    engine = app.extensions.get("kb_search_engine")
    if engine is None:
        engine = app.extensions["kb_search_engine"] = _make(app)
    return engine
