"""The Whoosh engine: an index folder per host, searched with the project's own BM25F ranking.

Where things are (nothing outside this package imports Whoosh):
- internals.py: every private Whoosh name, checked against the installed version at import.
- schema.py: the Whoosh schema, analyzers and the fields of one document.
- storage.py: index generations on disk, opening them, writers and rebuilds.
- searchers.py: the per-process searcher and its caches.
- query_builder.py: parsed query -> Whoosh queries, spelling corrections.
- postings.py: posting lists, doc frequencies and document lengths, decoded and cached per searcher.
- matching.py: matching documents from posting lists, visibility filtering, BM25F ranking.
- results.py: hits, snippets and facet counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from whoosh import query as wq

from kb.search.documents import SearchDoc, doc_key, plain_excerpt
from kb.search.engine import Hit, Outcome, SearchRequest
from kb.search.engines.whoosh import internals
from kb.search.engines.whoosh.matching import (
    allowed_docs,
    matching_docs,
    query_docs,
    rank,
)
from kb.search.engines.whoosh.query_builder import build_query, corrections, respellable
from kb.search.engines.whoosh.results import facet_counts, make_hit
from kb.search.engines.whoosh.schema import doc_fields
from kb.search.engines.whoosh.searchers import (
    current_searcher,
    expire,
    health,
    holder_for,
)
from kb.search.engines.whoosh.storage import (
    current_generation,
    doc_count,
    index_exists,
    index_identity,
    layout_changed,
    new_generation,
    stored_digests,
    try_writer,
)
from kb.search.query import _WORDCHARS, ParsedQuery, clean


class WhooshEngine:
    """The embedded engine (see kb.search.engine.Engine): one index folder (KB_INDEX_DIR) per host."""

    name = "whoosh"

    def __init__(self, config):
        self.config = config
        self.root = Path(config["INDEX_DIR"])
        internals.configure(bool(config.get("SEARCH_WHOOSH_FAST_PATHS", True)))

    def search(self, request: SearchRequest) -> Outcome:
        return run_search(self.root, self.config, request.query, request.visibility, kinds=request.kinds,
                          filters=request.filters, page=request.page, per_page=request.per_page,
                          sort=request.sort)

    def suggest(self, text: str, visibility: set[str], limit: int, kinds: list[str] | None) -> list[dict]:
        return run_suggest(self.root, self.config, text, visibility, limit, kinds=kinds)

    @contextmanager
    def batch(self):
        writer = try_writer(self.root, int(self.config["SEARCH_WRITER_MEMORY_MB"]))
        if writer is None:
            yield None
            return
        try:
            yield _WhooshBatch(writer, int(self.config["SEARCH_SNIPPET_SOURCE_CHARS"]),
                               int(self.config["SEARCH_SUGGEST_OPENING_WORDS"]))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        expire(self.root)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        excerpt = int(self.config["SEARCH_SNIPPET_SOURCE_CHARS"])
        opening = int(self.config["SEARCH_SUGGEST_OPENING_WORDS"])
        count = 0
        with new_generation(self.root, float(self.config["SEARCH_WRITER_MEMORY_MB"]),
                            float(self.config["SEARCH_REINDEX_LOCK_TIMEOUT"])) as target:
            for doc in docs:
                target.add(doc_fields(doc, excerpt, opening))
                count += 1
        expire(self.root)
        return count

    def digests(self) -> dict[str, str]:
        return stored_digests(self.root)

    def count(self) -> int:
        return doc_count(self.root)

    def health(self) -> None:
        health(self.root, float(self.config["SEARCH_REFRESH_INTERVAL"]))

    def rebuild_reason(self) -> str | None:
        if not index_exists(self.root) or doc_count(self.root) == 0:
            return "there is no index yet"
        if layout_changed(self.root):  # built by a version with other fields or analyzers
            return "its layout changed"
        return None

    def expire(self) -> None:
        expire(self.root)

    def consumer(self) -> str:
        return index_identity(self.root)

    def generation(self) -> str | None:
        """The index generation in service (tests and the benchmark check it)."""
        return current_generation(self.root)


class _WhooshBatch:
    def __init__(self, writer, excerpt_chars: int, opening_words: int):
        self.writer = writer
        self.excerpt_chars = excerpt_chars
        self.opening_words = opening_words

    def put(self, doc: SearchDoc) -> None:
        self.writer.update_document(**doc_fields(doc, self.excerpt_chars, self.opening_words))

    def remove(self, kind: str, doc_id: int) -> None:
        self.writer.delete_by_term("key", doc_key(kind, doc_id))


def _seen(holder, visibility: set[str]):
    """(field, word) -> whether a document the viewer may see holds it, remembered per searcher."""
    scope = tuple(sorted(visibility))
    visible = allowed_docs(holder, visibility, None, {})
    known = holder.cache.setdefault(("seen", scope), {})

    def seen(fieldname: str, word: str) -> bool:
        key = (fieldname, word)
        if key not in known:
            known[key] = bool(query_docs(holder, wq.Term(fieldname, word), visible))
        return known[key]

    return seen, scope


def run_search(root: Path, config, parsed: ParsedQuery, visibility: set[str], *, kinds=None, filters=None,
               page: int = 1, per_page: int = 10, sort: str = "relevance") -> Outcome:
    """Search the index in service as a viewer with the given visibility tokens."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    holder = holder_for(root)
    with holder.lock:
        holder = current_searcher(root, float(config["SEARCH_REFRESH_INTERVAL"]),
                                  int(config["SEARCH_TERM_CACHE_POSTINGS"]))
        searcher = holder.searcher
        allowed = allowed_docs(holder, visibility, kinds, filters)
        built = None
        loose = False
        if parsed.is_empty():
            matched = set(allowed) if (filters or kinds) else set()
            sort = "newest"
        else:
            seen, scope = _seen(holder, visibility)
            built = build_query(searcher.reader(), parsed, config, holder.cache, seen=seen, scope=scope)
            matched = matching_docs(holder, built.query if built else None, allowed)
            if (built is not None and len(matched) < int(config["SEARCH_RESPELL_BELOW"])
                    and len(parsed.positive) > 1):
                built, matched = _respelled(holder, parsed, config, allowed, built, matched, seen, scope)
            if not matched and built is not None and built.loose is not None:
                matched = matching_docs(holder, built.loose, allowed)
                loose = bool(matched)
        total = len(matched)
        facets = facet_counts(holder, matched)
        hits: list[Hit] = []
        start = (page - 1) * per_page
        if matched and start < total:
            if sort == "newest" or built is None:
                column = searcher.reader().column_reader("updated")
                ordered = sorted(matched, key=lambda d: (column[d], d), reverse=True)[start:start + per_page]
                scored = [(d, 0.0) for d in ordered]
            else:
                scored = rank(holder, built.loose if loose else built.query, matched, start + per_page)[start:]
            terms = built.highlight_terms if built else set()
            for docnum, score in scored:
                hits.append(make_hit(searcher.stored_fields(docnum), score, terms, config))
        did_you_mean = None
        if built is not None and built.corrected:
            did_you_mean = built.corrected
        return Outcome(hits, total, facets, did_you_mean, loose)


def _respelled(holder, parsed, config, allowed: frozenset, built, matched: set, seen, scope):
    """When the words together find (almost) nothing, one of them may be a typo that made another
    real word: try near spellings of each in turn and keep the one that finds the most documents.
    The typed word stays among the alternatives, so what the query found before is still found."""
    best, best_matched = built, matched
    for index in respellable(parsed, config):
        candidate = build_query(holder.searcher.reader(), parsed, config, holder.cache, respell=index,
                                seen=seen, scope=scope)
        if candidate is None or candidate.corrected is None:
            continue
        matched = matching_docs(holder, candidate.query, allowed)
        if len(matched) > len(best_matched):
            best, best_matched = candidate, matched
    return best, best_matched


# A word of the body's opening counts less than one of the title when suggestions are ranked.
OPENING_BOOST = 0.4


def _title_word_query(reader, word: str, *, prefix: bool, fuzzy: bool, cache: dict, seen):
    """A typed word of a title or of the body's opening: itself or (last word) its completions;
    fuzzy adds near spellings."""
    parts = []
    for fieldname, boost in (("title_words", 1.0), ("opening_words", OPENING_BOOST)):
        options: list[tuple[str, float]] = []
        if prefix:
            for btext in islice(reader.expand_prefix(fieldname, word), 200):
                options.append((btext.decode("utf-8") if isinstance(btext, bytes) else btext, 1.0))
        elif (fieldname, word) in reader:
            options.append((word, 1.0))
        if fuzzy:
            options += [(c, 0.6) for c in corrections(reader, word, 1, cache, fieldname=fieldname, seen=seen)]
        parts += [wq.Term(fieldname, t, boost=b * boost) for t, b in options]
    if not parts:
        return None
    return wq.Or(parts)


def run_suggest(root: Path, config, prefix: str, visibility: set[str], limit: int, kinds=None) -> list[dict]:
    """Titles and body openings holding what was typed (every word but the last complete, the last
    a prefix), fuzzy if too few do."""
    text = clean(prefix, int(config["SEARCH_QUERY_MAX_LENGTH"])).lower()
    words = _WORDCHARS.findall(text)[: int(config["SEARCH_QUERY_MAX_TERMS"])]
    if len(text) < int(config["SEARCH_SUGGEST_MIN_CHARS"]) or not words:
        return []
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    holder = holder_for(root)
    with holder.lock:
        holder = current_searcher(root, float(config["SEARCH_REFRESH_INTERVAL"]),
                                  int(config["SEARCH_TERM_CACHE_POSTINGS"]))
        searcher = holder.searcher
        reader = searcher.reader()
        allowed = allowed_docs(holder, visibility, kinds, {})
        if not allowed:
            return []
        complete = len(words) if prefix.endswith(" ") else len(words) - 1
        visible_word, scope = _seen(holder, visibility)
        cache = holder.cache.setdefault(("suggest_fuzzy", scope), {})
        seen: set[int] = set()
        out: list[dict] = []
        for fuzzy in (False, True):
            parts = []
            for i, word in enumerate(words):
                q = _title_word_query(reader, word, prefix=i >= complete, fuzzy=fuzzy and len(word) >= fuzzy_min,
                                      cache=cache, seen=visible_word)
                if q is None:
                    parts = None
                    break
                parts.append(q)
            if not parts:
                continue
            q = parts[0] if len(parts) == 1 else wq.And(parts)
            matched = set(query_docs(holder, q) & allowed) - seen
            for docnum, _ in rank(holder, q, matched, limit - len(out)):
                fields_ = searcher.stored_fields(docnum)
                seen.add(docnum)
                out.append({"title": fields_["title"], "url": fields_["url"], "kind": fields_["kind"],
                            "excerpt": plain_excerpt(fields_.get("summary") or fields_.get("excerpt") or "",
                                                     int(config["SEARCH_SUGGEST_EXCERPT_CHARS"]))})
            if len(out) >= limit:
                break
        return out[:limit]

