"""Which documents match (set algebra on posting lists from postings.py) and how they rank (BM25F)."""

from __future__ import annotations

import heapq
import re

from whoosh import query as wq
from whoosh.analysis import STOP_WORDS

from kb.search.engines.whoosh.postings import (
    doc_frequency,
    document_lengths,
    estimate,
    leaf_postings,
    live_docs,
    term_postings,
    term_weights,
)
from kb.search.engines.whoosh.schema import (
    CORE_FACETS,
    FACET_FIELD,
    FIELD_WEIGHTS,
    facet_term,
)
from kb.search.engines.whoosh.searchers import Holder
from kb.search.ranking import add_word, idf, title_factor


def value_sets(holder: Holder, fieldname: str) -> dict[str, frozenset]:
    """value -> the live documents having it, for the small keyword fields (per searcher)."""
    sets = holder.cache.setdefault("values", {})
    if fieldname not in sets:
        reader = holder.searcher.reader()
        values = {}
        for btext in reader.lexicon(fieldname):
            value = btext.decode("utf-8") if isinstance(btext, bytes) else btext
            docs: set[int] = set()
            for leaf, offset in reader.leaf_readers():
                if (fieldname, value) in leaf:
                    docs.update(live_docs(leaf, leaf_postings(leaf, fieldname, value, offset)[0], offset))
            values[value] = frozenset(docs)
        sets[fieldname] = values
    return sets[fieldname]


def allowed_docs(holder: Holder, visibility: set[str], kinds, filters: dict) -> frozenset:
    """Documents the viewer may see that also pass the facet filters."""
    key = (tuple(sorted(visibility)), tuple(sorted(kinds or ())),
           tuple(sorted((k, v) for k, v in filters.items() if v)))
    cache = holder.cache.setdefault("allowed", {})
    if key in cache:
        return cache[key]
    by_visibility = value_sets(holder, "visibility")
    allowed = frozenset().union(*(by_visibility.get(v, frozenset()) for v in visibility))
    if kinds:
        by_kind = value_sets(holder, "kind")
        allowed &= frozenset().union(*(by_kind.get(k, frozenset()) for k in kinds))
    for name, value in filters.items():
        if value:
            if name in CORE_FACETS:
                allowed &= value_sets(holder, name).get(value, frozenset())
            else:
                allowed &= value_sets(holder, FACET_FIELD).get(facet_term(name, value), frozenset())
    if len(cache) > 256:
        cache.clear()
    cache[key] = allowed
    return allowed


def query_docs(holder: Holder, q, within: frozenset | None = None) -> frozenset:
    """The documents a query matches (only among `within` when given), by set algebra on posting
    lists, without scoring. An AND starts from its rarest part, so common words are only looked up
    for the few documents still in question."""
    if q is None or isinstance(q, type(wq.NullQuery)):
        return frozenset()
    if within is not None and not within:
        return frozenset()
    if isinstance(q, wq.Term):
        if within is None:
            return term_postings(holder, q.fieldname, q.text)[0]
        return frozenset(term_weights(holder, q.fieldname, q.text, within))
    if isinstance(q, wq.AndNot):
        positive = query_docs(holder, q.a, within)
        return positive - query_docs(holder, q.b, positive)
    if isinstance(q, wq.And):
        result = within
        # Rarest part first; a phrase checked against stored text last, once the others have narrowed.
        for sub in sorted(q.subqueries, key=lambda part: (_reads_text(holder, part), estimate(holder, part))):
            result = query_docs(holder, sub, result)
            if not result:
                break
        return result if result is not None else frozenset()
    if isinstance(q, wq.Or):
        return frozenset().union(*(query_docs(holder, sub, within) for sub in q.subqueries))
    if isinstance(q, wq.Phrase) and _reads_text(holder, q):
        return phrase_in_text(holder, q, within)
    found = frozenset(q.matcher(holder.searcher).all_ids())
    return found if within is None else found & within


def _reads_text(holder: Holder, q) -> bool:
    """Whether matching the query reads stored text (a phrase in a field kept without positions)."""
    if isinstance(q, wq.Phrase):
        return not holder.searcher.schema[q.fieldname].format.supports("positions")
    return any(_reads_text(holder, sub) for sub in q.children())


# Between two words of a phrase the analyzer drops punctuation, stop words and one-letter words.
_PHRASE_GAP = r"(?:\W+(?:" + "|".join(sorted(STOP_WORDS)) + r"|\w))*\W+"


def phrase_pattern(stems) -> re.Pattern:
    """A regex for a phrase of stems in plain text: each word starts like its stem (a stem's last
    letter may differ from the word's: happi/happy, relat/relate) and only skipped words lie between."""
    words = [r"\b" + re.escape(stem[:-1] if len(stem) > 3 else stem) + r"\w*" for stem in stems]
    return re.compile(_PHRASE_GAP.join(words), re.IGNORECASE)


def phrase_in_text(holder: Holder, q, within: frozenset | None) -> frozenset:
    """Documents holding a phrase in a field kept without word positions: those with every word,
    checked against the stored text (the first SEARCH_SNIPPET_SOURCE_CHARS characters of the body)."""
    candidates = query_docs(holder, wq.And([wq.Term(q.fieldname, word) for word in q.words]), within)
    # Matching and then scoring both ask; each document's text is read once per searcher.
    phrases = holder.cache.setdefault("phrases", {})
    if len(phrases) > 256:
        phrases.clear()
    checked = phrases.setdefault((q.fieldname, tuple(q.words)), {})
    unchecked = [doc for doc in candidates if doc not in checked]
    if unchecked:
        pattern = phrase_pattern(q.words)
        stored = holder.searcher.stored_fields
        for doc in unchecked:
            checked[doc] = pattern.search(stored(doc).get("excerpt") or "") is not None
    return frozenset(doc for doc in candidates if checked[doc])


def _add_word(holder: Holder, terms: list, matched: set, out: dict, boost: float) -> None:
    """BM25F for one typed word (kb.search.ranking): its weighted frequencies in every field summed."""
    combined: dict[int, float] = {}
    df = 0
    for term in terms:
        df = max(df, doc_frequency(holder, term.fieldname, term.text))
        weight = getattr(term, "boost", 1.0) * FIELD_WEIGHTS.get(term.fieldname, 1.0)
        get = combined.get
        for doc, frequency in term_weights(holder, term.fieldname, term.text, matched).items():
            combined[doc] = get(doc, 0.0) + frequency * weight
    if not combined:
        return
    lengths, average = document_lengths(holder)
    size = len(lengths)
    add_word(out, combined, idf(holder.searcher.doc_count(), df) * boost,
             lambda doc: lengths[doc] if doc < size else None, average)


def _add_scores(holder: Holder, q, matched: set, out: dict, boost: float = 1.0) -> None:
    """Score matched documents only: BM25F per word over title, headings, body and tags."""
    if q is None or isinstance(q, type(wq.NullQuery)):
        return
    if isinstance(q, wq.Term):
        _add_word(holder, [q], matched, out, boost)
        return
    boost *= getattr(q, "boost", 1.0)
    if isinstance(q, wq.Or) and q.subqueries and all(isinstance(sub, wq.Term) for sub in q.subqueries):
        _add_word(holder, list(q.subqueries), matched, out, boost)
    elif isinstance(q, wq.AndNot):
        _add_scores(holder, q.a, matched, out, boost)
    elif isinstance(q, (wq.And, wq.Or)):
        for sub in q.subqueries:
            _add_scores(holder, sub, matched, out, boost)
    elif isinstance(q, wq.Phrase):
        inside = query_docs(holder, q, frozenset(matched))
        if inside:
            for word in q.words:
                _add_word(holder, [wq.Term(q.fieldname, word)], inside, out, boost * 1.5)
    else:
        for doc in query_docs(holder, q, frozenset(matched)):
            out[doc] = out.get(doc, 0.0) + 0.5 * boost


def _in_field(q, fieldnames: tuple):
    """The part of a query that looks only at the given fields, or None when nothing is left."""
    if isinstance(q, (wq.Term, wq.Phrase)):
        return q if q.fieldname in fieldnames else None
    if isinstance(q, wq.AndNot):
        return _in_field(q.a, fieldnames)
    if isinstance(q, wq.Or):
        parts = [p for p in (_in_field(sub, fieldnames) for sub in q.subqueries) if p is not None]
        return wq.Or(parts) if parts else None
    if isinstance(q, wq.And):
        parts = [_in_field(sub, fieldnames) for sub in q.subqueries]
        return None if any(p is None for p in parts) else wq.And(parts)
    return None


def coverage(holder: Holder, q, docs: frozenset, fieldnames: tuple) -> dict[int, float]:
    """For each document, the share of the query's words (its top-level clauses) found in the fields."""
    if isinstance(q, wq.AndNot):
        q = q.a
    clauses = list(q.subqueries) if isinstance(q, wq.And) else [q]
    counts: dict[int, int] = {}
    for clause in clauses:
        restricted = _in_field(clause, fieldnames)
        if restricted is not None:
            for doc in query_docs(holder, restricted, docs):
                counts[doc] = counts.get(doc, 0) + 1
    return {doc: n / len(clauses) for doc, n in counts.items()}


def rank(holder: Holder, q, matched: set, limit: int) -> list[tuple[int, float]]:
    """The best `limit` matched documents by score (ties: older document number first)."""
    scores: dict[int, float] = {}
    _add_scores(holder, q, matched, scores)
    scored = frozenset(scores)
    for doc, share in coverage(holder, q, scored, ("title", "title_words")).items():
        scores[doc] *= title_factor(share)
    best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
    if len(best) < limit and len(scores) < len(matched):
        best += [(doc, 0.0) for doc in sorted(matched - scores.keys())[: limit - len(best)]]
    return best


def matching_docs(holder: Holder, q, allowed: frozenset) -> set:
    if q is None:
        return set()
    return set(query_docs(holder, q, allowed))

