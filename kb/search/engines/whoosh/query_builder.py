"""Turns a parsed query into Whoosh queries, with spelling corrections for unknown words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh import query as wq

from kb.search.engines.whoosh.postings import SegmentCache
from kb.search.engines.whoosh.schema import STEM_ANALYZER, TEXT_FIELDS
from kb.search.query import MUST, NOT, PHRASE, PREFIX, ParsedQuery

Seen = Callable[[str, str], bool]  # (field, word) -> whether a document the viewer may see holds it


@dataclass
class BuiltQuery:
    query: object
    loose: object | None
    highlight_terms: set
    corrected: str | None


def _analyse(text: str) -> list[str]:
    return [t.text for t in STEM_ANALYZER(text)]


def _word_query(stemmed: list[str], raw: str, boost: float = 1.0, phrase: bool = False):
    """One typed word in any text field (or its tag); a quoted phrase keeps its word order."""
    if not stemmed:
        return None
    if len(stemmed) == 1:
        term = stemmed[0]
        parts = [wq.Term(name, term) for name in TEXT_FIELDS]
        parts.append(wq.Term("tags", raw.lower()))
        return wq.Or(parts, boost=boost)
    if phrase:
        return wq.Or([wq.Phrase(name, stemmed) for name in TEXT_FIELDS], boost=boost)
    # A word with inner punctuation (fail-back, HS-2104, VM's): each part, in any order.
    return wq.And([_word_query([term], term) for term in stemmed], boost=boost)


def _known(reader, stemmed: list[str], raw: str, seen: Seen | None = None) -> bool:
    """Whether the index (with ``seen``: a document the viewer may see) holds every part of the word."""
    def holds(name: str, term: str) -> bool:
        return reader.doc_frequency(name, term) > 0 and (seen is None or seen(name, term))

    if not stemmed:
        return True
    for term in stemmed:
        if not any(holds(name, term) for name in TEXT_FIELDS):
            return holds("tags", raw.lower())
    return True


_segment_words = SegmentCache(64)


def _segment_vocabulary(leaf, fieldname: str) -> list[tuple[str, int]]:
    """(word, document frequency) of one segment's field, read per segment: Whoosh's merged view
    of many segments lists words several times slower."""
    def read() -> list[tuple[str, int]]:
        if fieldname not in leaf.schema:
            return []
        return [(text.decode("utf-8") if isinstance(text, bytes) else text, info.doc_frequency())
                for text, info in leaf.iter_field(fieldname)]

    return _segment_words.get(leaf, fieldname, read)


def _vocabulary(reader, fieldname: str, cache: dict) -> tuple[dict[int, list[str]], dict[str, int]]:
    """Every word of a field by length, and each word's document frequency (once per searcher)."""
    key = ("vocabulary", fieldname)
    if key not in cache:
        frequency: dict[str, int] = {}
        for leaf, _ in reader.leaf_readers():
            for word, df in _segment_vocabulary(leaf, fieldname):
                frequency[word] = frequency.get(word, 0) + df
        by_length: dict[int, list[str]] = {}
        for word in frequency:
            by_length.setdefault(len(word), []).append(word)
        cache[key] = (by_length, frequency)
    return cache[key]


def corrections(reader, word: str, maxdist: int, cache: dict, limit: int = 3, fieldname: str = "spell",
                seen: Seen | None = None) -> list[str]:
    """Known words within maxdist edits of word, closest and most frequent first.

    Any letter may be the mistyped one, the first included, so the whole vocabulary of near length is
    compared, in C (rapidfuzz): tens of thousands of words take a few milliseconds. Swapping two
    neighbouring letters counts as one edit (optimal string alignment). With ``seen`` (does a
    document the viewer may see hold the word?) only such words are offered: the vocabulary spans
    every document, and a word from a staff-only page must not leak as a correction. The cache must
    then belong to that viewer's documents.
    """
    key = (word, maxdist, fieldname, limit)
    if key in cache:
        return cache[key]
    by_length, frequency = _vocabulary(reader, fieldname, cache)
    found: list[tuple[int, int, str]] = []
    for length in range(len(word) - maxdist, len(word) + maxdist + 1):
        words = by_length.get(length)
        if words:
            for candidate, distance, _ in process.extract(word, words, scorer=OSA.distance,
                                                          score_cutoff=maxdist, limit=None):
                if candidate != word:
                    found.append((distance, -frequency[candidate], candidate))
    result: list[str] = []
    for _, _, candidate in sorted(found):
        if len(result) >= limit:
            break
        if seen is None or seen(fieldname, candidate):
            result.append(candidate)
    if len(cache) > 5000:
        cache.clear()
    cache[key] = result
    return result


def _prefix_query(reader, word: str, cache: dict):
    word = word.lower()
    key = ("prefix", word)
    if key not in cache:
        terms = []
        for btext in islice(reader.expand_prefix("spell", word), 400):
            terms.append(btext.decode("utf-8") if isinstance(btext, bytes) else btext)
        terms.sort(key=lambda t: -reader.doc_frequency("spell", t))
        cache[key] = terms[:64]
    terms = cache[key]
    if not terms:
        return wq.NullQuery, []
    parts = [wq.Term("spell", t) for t in terms] + [wq.Term("title_words", t) for t in terms]
    return wq.Or(parts), terms


def build_query(reader, parsed: ParsedQuery, config, cache: dict, respell: int | None = None, *,
                seen: Seen | None = None, scope=None) -> BuiltQuery | None:
    """Whoosh queries for a parsed query: exact words, with fuzzy alternatives for unknown words.

    respell names one clause to give alternatives even though the index knows it: a typo can make
    another real word ("stare" for "state"), which only shows when the query then matches nothing.
    Corrections come only from words ``seen`` accepts; ``scope`` names the viewer's documents for
    the corrections cache.
    """
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    two_edits = int(config["SEARCH_FUZZY_TWO_EDITS_LENGTH"])
    fuzzy_weight = float(config["SEARCH_FUZZY_WEIGHT"])
    highlight_terms: set[str] = set()
    corrected_words: list[str] = []
    changed = False
    clause_queries = []
    for index, clause in enumerate(parsed.clauses):
        if clause.kind == PREFIX:
            q, terms = _prefix_query(reader, clause.text, cache.setdefault("prefix", {}))
            highlight_terms.update(_analyse(" ".join(terms)))
            clause_queries.append(q)
            corrected_words.append(clause.text + "*")
            continue
        stemmed = _analyse(clause.text)
        q = _word_query(stemmed, clause.text, phrase=clause.kind == PHRASE and '"' in clause.text)
        typed = clause.text
        if q is not None and clause.kind != PHRASE and clause.occur != NOT and (
                index == respell or not _known(reader, stemmed, clause.text, seen)):
            lowered = clause.text.lower()
            options = []
            if len(lowered) >= fuzzy_min:
                maxdist = 2 if len(lowered) >= two_edits else 1
                options = corrections(reader, lowered, maxdist, cache.setdefault(("fuzzy", scope), {}),
                                      limit=int(config["SEARCH_FUZZY_ALTERNATIVES"]), seen=seen)
            if options and not _analyse(options[0]):
                # Most likely a misspelt stop word ("hsve" for "have"): it never narrows a search.
                q = None
                typed = options[0]
                changed = True
            elif options:
                alternatives = [q]
                for rank, option in enumerate(options):
                    alt = _word_query(_analyse(option), option, boost=fuzzy_weight * (1.0 - 0.1 * rank))
                    if alt is not None:
                        alternatives.append(alt)
                        highlight_terms.update(_analyse(option))
                q = wq.Or(alternatives)
                typed = options[0]
                changed = True
        if clause.occur != NOT:
            highlight_terms.update(stemmed)
        clause_queries.append(q)
        corrected_words.append(("-" if clause.occur == NOT else "") + typed)

    grouped = {i for group in parsed.or_groups for i in group}
    musts = [q for i, (c, q) in enumerate(zip(parsed.clauses, clause_queries))
             if q is not None and c.occur == MUST and i not in grouped]
    for group in parsed.or_groups:
        options = [clause_queries[i] for i in group if clause_queries[i] is not None]
        if options:
            musts.append(wq.Or(options))
    nots = [q for c, q in zip(parsed.clauses, clause_queries) if q is not None and c.occur == NOT]
    if not musts:
        return None
    positive = musts[0] if len(musts) == 1 else wq.And(musts)
    loose = None
    if len(musts) > 1 and not parsed.or_groups:
        loose = wq.Or(musts)
    if nots:
        positive = wq.AndNot(positive, wq.Or(nots))
        if loose is not None:
            loose = wq.AndNot(loose, wq.Or(nots))
    return BuiltQuery(positive, loose, highlight_terms, " ".join(corrected_words) if changed else None)


def respellable(parsed: ParsedQuery, config) -> list[int]:
    """Clauses that could be a typo making another real word: plain words long enough to correct."""
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    return [i for i, c in enumerate(parsed.clauses)
            if c.kind not in (PHRASE, PREFIX) and c.occur != NOT and len(c.text) >= fuzzy_min]
