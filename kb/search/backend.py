"""Search and type-ahead over the index in service; the entry points api.py and indexing.py use.

Where things are (every module here that touches Whoosh is inside kb/search):
- schema.py: the Whoosh schema, analyzers and the fields of one document.
- storage.py: index generations on disk, opening them, writers and rebuilds.
- searchers.py: the per-process searcher and its caches.
- query_builder.py: parsed query -> Whoosh queries, spelling corrections.
- postings.py: posting lists, doc frequencies and document lengths, decoded and cached per searcher.
- matching.py: matching documents from posting lists, visibility filtering, BM25F ranking.
- results.py: hits, snippets and facet counts.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from whoosh import query as wq

from kb.search.matching import allowed_docs, matching_docs, query_docs, rank
from kb.search.query import _WORDCHARS, clean, parse
from kb.search.query_builder import build_query, corrections, respellable
from kb.search.results import Hit, Outcome, facet_counts, make_hit
from kb.search.schema import doc_digest, doc_fields, doc_key
from kb.search.searchers import (
    current_searcher,
    expire,
    health,
    holder_for,
    searcher_opened_count,
)
from kb.search.storage import (
    apply_docs,
    current_generation,
    doc_count,
    ensure_index,
    index_exists,
    index_root,
    new_generation,
    stored_digests,
    try_writer,
)

__all__ = [
    "Hit",
    "Outcome",
    "apply_docs",
    "current_generation",
    "doc_count",
    "doc_digest",
    "doc_fields",
    "doc_key",
    "ensure_index",
    "expire",
    "health",
    "holder_for",
    "index_exists",
    "index_root",
    "new_generation",
    "run_search",
    "run_suggest",
    "searcher_opened_count",
    "stored_digests",
    "try_writer",
]


def run_search(root: Path, config, text: str, visibility: set[str], *, kinds=None, filters=None,
               page: int = 1, per_page: int = 10, sort: str = "relevance") -> Outcome:
    """Search the index in service as a viewer with the given visibility tokens."""
    filters = {k: v for k, v in (filters or {}).items() if k in ("category", "article_type", "versions") and v}
    parsed = parse(text, max_length=int(config["SEARCH_QUERY_MAX_LENGTH"]),
                   max_terms=int(config["SEARCH_QUERY_MAX_TERMS"]),
                   prefix_min=int(config["SEARCH_PREFIX_MIN_LENGTH"]))
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
            built = build_query(searcher.reader(), parsed, config, holder.cache)
            matched = matching_docs(holder, built.query if built else None, allowed)
            if (built is not None and len(matched) < int(config["SEARCH_RESPELL_BELOW"])
                    and len(parsed.positive) > 1):
                built, matched = _respelled(holder, parsed, config, allowed, built, matched)
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


def _respelled(holder, parsed, config, allowed: frozenset, built, matched: set):
    """When the words together find (almost) nothing, one of them may be a typo that made another
    real word: try near spellings of each in turn and keep the one that finds the most documents.
    The typed word stays among the alternatives, so what the query found before is still found."""
    best, best_matched = built, matched
    for index in respellable(parsed, config):
        candidate = build_query(holder.searcher.reader(), parsed, config, holder.cache, respell=index)
        if candidate is None or candidate.corrected is None:
            continue
        matched = matching_docs(holder, candidate.query, allowed)
        if len(matched) > len(best_matched):
            best, best_matched = candidate, matched
    return best, best_matched


def _title_word_query(reader, word: str, *, prefix: bool, fuzzy: bool, cache: dict):
    """A typed word of a title: itself or (last word) its completions; fuzzy adds near spellings."""
    options: list[tuple[str, float]] = []
    if prefix:
        for btext in islice(reader.expand_prefix("title_words", word), 200):
            options.append((btext.decode("utf-8") if isinstance(btext, bytes) else btext, 1.0))
    elif ("title_words", word) in reader:
        options.append((word, 1.0))
    if fuzzy:
        options += [(c, 0.6) for c in corrections(reader, word, 1, cache, fieldname="title_words")]
    if not options:
        return None
    return wq.Or([wq.Term("title_words", t, boost=b) for t, b in options])


def run_suggest(root: Path, config, prefix: str, visibility: set[str], limit: int, kinds=None) -> list[dict]:
    """Titles starting with what was typed (every word but the last complete), fuzzy if too few do."""
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
        cache = holder.cache.setdefault("suggest_fuzzy", {})
        seen: set[int] = set()
        out: list[dict] = []
        for fuzzy in (False, True):
            parts = []
            for i, word in enumerate(words):
                q = _title_word_query(reader, word, prefix=i >= complete, fuzzy=fuzzy and len(word) >= fuzzy_min,
                                      cache=cache)
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
                out.append({"title": fields_["title"], "url": fields_["url"], "kind": fields_["kind"]})
            if len(out) >= limit:
                break
        return out[:limit]

