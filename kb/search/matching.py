"""Which documents match (set algebra on cached posting lists) and how they rank (BM25F)."""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from itertools import accumulate, islice, repeat

from whoosh import query as wq
from whoosh.analysis import STOP_WORDS
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from kb.search.schema import FIELD_WEIGHTS
from kb.search.searchers import Holder


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
                    docs.update(_live(leaf, _leaf_postings(leaf, fieldname, value, offset)[0], offset))
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
    for fieldname, value in filters.items():
        if value:
            allowed &= value_sets(holder, fieldname).get(value, frozenset())
    if len(cache) > 256:
        cache.clear()
    cache[key] = allowed
    return allowed


def _leaf_postings(leaf, fieldname: str, text: str, offset: int = 0) -> tuple[list[int], list[float]]:
    """Document numbers (plus the segment's offset) and term weights of one term in one segment.

    Decodes Whoosh's posting blocks directly: its own matcher undoes the delta-encoded ids one at a
    time in a Python generator, which dominated cold queries. Another codec, or a term stored inline,
    takes the slower public way.
    """
    ids: list[int] = []
    weights: list[float] = []
    try:
        matcher = leaf._terms.matcher(fieldname, leaf._text_to_bytes(fieldname, text),
                                      leaf.schema[fieldname].format, scorer=None)
    except (KeyError, TermNotFound):  # not in this segment
        return ids, weights
    except AttributeError:  # another codec
        matcher = None
    if matcher is None or not hasattr(matcher, "_blocklength"):  # ...or a term stored inline
        try:
            public = leaf.postings(fieldname, text)
        except (KeyError, TermNotFound):
            return ids, weights
        while public.is_active():
            ids.append(public.id() + offset)
            weights.append(public.weight())
            public.next()
        return ids, weights
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        if matcher._byteids:
            ids.extend(map(offset.__add__, block_ids))
        else:
            ids.extend(islice(accumulate(block_ids, initial=offset), 1, None))
        if block_weights is None or isinstance(block_weights, float):
            weights.extend(repeat(block_weights or 1.0, matcher._blocklength))
        else:
            weights.extend(block_weights)
        matcher._next_block()
    return ids, weights


def _live(leaf, ids, offset: int = 0) -> frozenset:
    """The ids of a segment's postings minus its deleted documents (both plus the segment's offset)."""
    docs = frozenset(ids)
    if not leaf.has_deletions():
        return docs
    return docs - frozenset(map(offset.__add__, leaf.deleted_docs_set))


K1, B = 1.2, 0.75
_LENGTH_TABLE = [byte_to_length(i) for i in range(256)]
_segment_lengths: OrderedDict[tuple, list[int]] = OrderedDict()
# Fields whose lengths add up to a document's length (BM25 normalises all fields by it, as FTS5 does).
LENGTH_FIELDS = ("title", "headings", "body")


def _segment_field_lengths(leaf, fieldname: str) -> list[int]:
    """Each document's length in one field of one segment (segments never change, so cached)."""
    segment = leaf.segment()
    key = (segment.segment_id() if hasattr(segment, "segment_id") else id(leaf), fieldname)
    part = _segment_lengths.get(key)
    if part is not None:
        return part
    if fieldname == "*":
        parts = [_segment_field_lengths(leaf, name) for name in LENGTH_FIELDS]
        size = max(len(values) for values in parts)
        part = [0] * size
        for values in parts:
            if len(values) == size:  # a field no document of the segment has keeps no lengths
                part = [a + b for a, b in zip(part, values)]
    else:
        try:
            if fieldname == "body" and leaf.has_column("body_length"):
                part = list(leaf.column_reader("body_length"))
            else:
                column = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                part = [_LENGTH_TABLE[b] for b in column] if column is not None else []
        except AttributeError:
            part = [leaf.doc_field_length(d, fieldname, 0) for d in range(leaf.doc_count_all())]
    _segment_lengths[key] = part
    while len(_segment_lengths) > 512:
        _segment_lengths.popitem(last=False)
    return part


def document_lengths(holder: Holder) -> tuple[list[int], float]:
    """(each document's length in words by global number, the average length), per searcher.

    Body lengths are exact (a column written at indexing): Whoosh keeps field lengths in one lossy
    byte, too coarse to separate long documents that share most of their text.
    """
    cache = holder.cache.setdefault("lengths", {})
    if "*" not in cache:
        lengths: list[int] = []
        for leaf, offset in holder.searcher.reader().leaf_readers():
            if len(lengths) < offset:
                lengths.extend([0] * (offset - len(lengths)))
            lengths.extend(_segment_field_lengths(leaf, "*"))
        cache["*"] = (lengths, sum(lengths) / max(1, len(lengths)))
    return cache["*"]


def term_postings(holder: Holder, fieldname: str, text: str) -> tuple[frozenset, dict]:
    """(live documents, {document: term frequency}) of one term in one field, cached per searcher.

    The frequency map may also hold deleted documents; only documents from the set are looked up.
    """
    cache = holder.cache.setdefault("terms", OrderedDict())
    key = (fieldname, text)
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    reader = holder.searcher.reader()
    docs = frozenset()
    frequencies: dict[int, float] = {}
    if fieldname in reader.schema:
        for leaf, offset in reader.leaf_readers():
            ids, weights = _leaf_postings(leaf, fieldname, text, offset)
            if not ids:
                continue
            live = _live(leaf, ids, offset)
            frequencies.update(zip(ids, weights))
            docs = docs | live if docs else live
    found = (docs, frequencies)
    cache[key] = found
    holder.cache["term_postings"] = holder.cache.get("term_postings", 0) + len(frequencies)
    while holder.cache["term_postings"] > holder.term_cache_postings and len(cache) > 1:
        _, (_, old) = cache.popitem(last=False)
        holder.cache["term_postings"] -= len(old)
    return found


# A term is read in full (and cached for later queries) unless it is common and the documents
# still in question are few: then only the posting blocks that can hold them are decoded.
FULL_READ_BELOW = 256
FULL_READ_RATIO = 200


def _cached(holder: Holder, fieldname: str, text: str):
    return holder.cache.get("terms", {}).get((fieldname, text))


def doc_frequency(holder: Holder, fieldname: str, text: str) -> int:
    """How many documents hold a term (deleted ones included), remembered per searcher: asking
    Whoosh means a hash lookup in every segment."""
    cache = holder.cache.setdefault("df", {})
    key = (fieldname, text)
    df = cache.get(key)
    if df is None:
        df = cache[key] = holder.searcher.reader().doc_frequency(fieldname, text)
    return df


def _estimate(holder: Holder, q) -> int:
    """About how many documents a query matches, from doc frequencies alone."""
    if isinstance(q, wq.Term):
        return doc_frequency(holder, q.fieldname, q.text)
    if isinstance(q, wq.Or):
        return sum(_estimate(holder, sub) for sub in q.subqueries)
    if isinstance(q, wq.And):
        return min((_estimate(holder, sub) for sub in q.subqueries), default=0)
    if isinstance(q, wq.AndNot):
        return _estimate(holder, q.a)
    return q.estimate_size(holder.searcher.reader())


def _read_in_full(holder: Holder, fieldname: str, text: str, candidates: int) -> bool:
    if _cached(holder, fieldname, text) is not None:
        return True
    df = doc_frequency(holder, fieldname, text)
    return df < FULL_READ_BELOW or df <= FULL_READ_RATIO * candidates


def _leaf_weights_within(leaf, fieldname: str, text: str, offset: int, wanted: list[int]) -> dict[int, float]:
    """Weights of one term for some documents (sorted, global numbers) in one segment, decoding only
    the posting blocks whose range of document numbers holds one of them."""
    found: dict[int, float] = {}
    start = bisect_left(wanted, offset)
    try:
        matcher = leaf._terms.matcher(fieldname, leaf._text_to_bytes(fieldname, text),
                                      leaf.schema[fieldname].format, scorer=None)
    except (KeyError, TermNotFound):  # not in this segment
        return found
    if not hasattr(matcher, "_maxid"):  # a term stored inline, or another codec: read it all
        ids, weights = _leaf_postings(leaf, fieldname, text, offset)
        wanted_set = set(wanted)
        return {d: w for d, w in zip(ids, weights) if d in wanted_set}
    count = len(wanted)
    while matcher.is_active() and start < count:
        block_max = matcher._maxid + offset
        if wanted[start] <= block_max:
            if matcher._data is None:
                matcher._read_data()
            block_ids, block_weights = matcher._data[0], matcher._data[1]
            ids = (map(offset.__add__, block_ids) if matcher._byteids
                   else islice(accumulate(block_ids, initial=offset), 1, None))
            if block_weights is None or isinstance(block_weights, float):
                block = dict.fromkeys(ids, block_weights or 1.0)
            else:
                block = dict(zip(ids, block_weights))
            end = bisect_right(wanted, block_max, start)
            for doc in wanted[start:end]:
                weight = block.get(doc)
                if weight is not None:
                    found[doc] = weight
            start = end
        matcher._next_block()
    return found


def term_weights(holder: Holder, fieldname: str, text: str, docs) -> dict[int, float]:
    """{document: term frequency} of one term for the given (live) documents only."""
    if not docs:
        return {}
    if _read_in_full(holder, fieldname, text, len(docs)):
        present, frequencies = term_postings(holder, fieldname, text)
        inside = (present & docs) if len(present) < len(docs) else (docs & present)
        return {doc: frequencies[doc] for doc in inside}
    wanted = sorted(docs)
    found: dict[int, float] = {}
    reader = holder.searcher.reader()
    if fieldname in reader.schema:
        for leaf, offset in reader.leaf_readers():
            found.update(_leaf_weights_within(leaf, fieldname, text, offset, wanted))
    return found


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
        for sub in sorted(q.subqueries, key=lambda part: _estimate(holder, part)):
            result = query_docs(holder, sub, result)
            if not result:
                break
        return result if result is not None else frozenset()
    if isinstance(q, wq.Or):
        return frozenset().union(*(query_docs(holder, sub, within) for sub in q.subqueries))
    if isinstance(q, wq.Phrase) and not holder.searcher.schema[q.fieldname].format.supports("positions"):
        return phrase_in_text(holder, q, within)
    found = frozenset(q.matcher(holder.searcher).all_ids())
    return found if within is None else found & within


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
    pattern = phrase_pattern(q.words)
    stored = holder.searcher.stored_fields
    return frozenset(doc for doc in candidates if pattern.search(stored(doc).get("excerpt") or ""))


def _add_word(holder: Holder, terms: list, matched: set, out: dict, boost: float) -> None:
    """BM25F for one typed word: its weighted frequencies in every field are summed, normalised by the
    document's length and saturated."""
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
    n = max(1, holder.searcher.doc_count())
    idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) * boost
    get = out.get
    for doc, tf in combined.items():
        if average and doc < size:
            tf /= 1.0 - B + B * lengths[doc] / average
        out[doc] = get(doc, 0.0) + idf * tf * (K1 + 1.0) / (tf + K1)


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


# A title holding every word of the query multiplies the score by 1 + TITLE_MATCH_BONUS; the bonus
# fades fast (share ** TITLE_MATCH_POWER) as words are missing, so one shared title word barely counts.
TITLE_MATCH_BONUS = 3.0
TITLE_MATCH_POWER = 8


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
        scores[doc] *= 1.0 + TITLE_MATCH_BONUS * share ** TITLE_MATCH_POWER
    best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
    if len(best) < limit and len(scores) < len(matched):
        best += [(doc, 0.0) for doc in sorted(matched - scores.keys())[: limit - len(best)]]
    return best


def matching_docs(holder: Holder, q, allowed: frozenset) -> set:
    if q is None:
        return set()
    return set(query_docs(holder, q, allowed))

