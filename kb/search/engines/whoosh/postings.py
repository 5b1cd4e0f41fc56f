"""What the index holds for a term or a document, decoded and cached per searcher.

Posting blocks are decoded through internals.py (the only module reading Whoosh's private names);
when it cannot, the public postings API gives the same numbers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict

from whoosh import query as wq
from whoosh.reading import TermNotFound

from kb.search.engines.whoosh import internals
from kb.search.engines.whoosh.searchers import Holder


def _public_postings(leaf, fieldname: str, text: str, offset: int) -> tuple[list[int], list[float]]:
    ids: list[int] = []
    weights: list[float] = []
    try:
        public = leaf.postings(fieldname, text)
    except (KeyError, TermNotFound):
        return ids, weights
    while public.is_active():
        ids.append(public.id() + offset)
        weights.append(public.weight())
        public.next()
    return ids, weights


def leaf_postings(leaf, fieldname: str, text: str, offset: int = 0) -> tuple[list[int], list[float]]:
    """Document numbers (plus the segment's offset) and term weights of one term in one segment."""
    try:
        blocks = internals.posting_blocks(leaf, fieldname, text, offset)
    except (KeyError, TermNotFound):  # not in this segment
        return [], []
    if blocks is None:
        return _public_postings(leaf, fieldname, text, offset)
    ids: list[int] = []
    weights: list[float] = []
    for _, decode in blocks:
        block_ids, block_weights = decode()
        ids.extend(block_ids)
        weights.extend(block_weights)
    return ids, weights


def live_docs(leaf, ids, offset: int = 0) -> frozenset:
    """The ids of a segment's postings minus its deleted documents (both plus the segment's offset)."""
    docs = frozenset(ids)
    if not leaf.has_deletions():
        return docs
    return docs - frozenset(map(offset.__add__, leaf.deleted_docs_set))


class SegmentCache:
    """Values worked out from one segment's files, kept across searchers: a segment never changes,
    so only a refresh's new segments cost anything. The oldest entries go beyond `size`."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[tuple, object] = OrderedDict()

    def get(self, leaf, name: str, compute):
        segment = leaf.segment()
        key = (segment.segment_id() if hasattr(segment, "segment_id") else id(leaf), name)
        if key not in self.entries:
            self.entries[key] = compute()
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return self.entries[key]


_segment_lengths = SegmentCache(512)
# Fields whose lengths add up to a document's length (BM25 normalises all fields by it, as FTS5 does).
LENGTH_FIELDS = ("title", "headings", "body")


def _segment_field_lengths(leaf, fieldname: str) -> list[int]:
    """Each document's length in one field ("*": all of LENGTH_FIELDS) of one segment."""
    return _segment_lengths.get(leaf, fieldname, lambda: _read_field_lengths(leaf, fieldname))


def _read_field_lengths(leaf, fieldname: str) -> list[int]:
    if fieldname == "*":
        parts = [_segment_field_lengths(leaf, name) for name in LENGTH_FIELDS]
        size = max(len(values) for values in parts)
        part = [0] * size
        for values in parts:
            if len(values) == size:  # a field no document of the segment has keeps no lengths
                part = [a + b for a, b in zip(part, values)]
    else:
        if fieldname == "body" and leaf.has_column("body_length"):
            part = list(leaf.column_reader("body_length"))
        else:
            part = internals.field_lengths(leaf, fieldname)
        if part is None:
            part = [leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(leaf.doc_count_all())]
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
            ids, weights = leaf_postings(leaf, fieldname, text, offset)
            if not ids:
                continue
            live = live_docs(leaf, ids, offset)
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


def estimate(holder: Holder, q) -> int:
    """About how many documents a query matches, from doc frequencies alone."""
    if isinstance(q, wq.Term):
        return doc_frequency(holder, q.fieldname, q.text)
    if isinstance(q, wq.Or):
        return sum(estimate(holder, sub) for sub in q.subqueries)
    if isinstance(q, wq.And):
        return min((estimate(holder, sub) for sub in q.subqueries), default=0)
    if isinstance(q, wq.AndNot):
        return estimate(holder, q.a)
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
    try:
        blocks = internals.posting_blocks(leaf, fieldname, text, offset)
    except (KeyError, TermNotFound):  # not in this segment
        return found
    if blocks is None:  # read it all
        ids, weights = leaf_postings(leaf, fieldname, text, offset)
        wanted_set = set(wanted)
        return {d: w for d, w in zip(ids, weights) if d in wanted_set}
    start = bisect_left(wanted, offset)
    count = len(wanted)
    for block_max, decode in blocks:
        if start >= count:
            break
        if wanted[start] <= block_max:
            block = dict(zip(*decode()))
            end = bisect_right(wanted, block_max, start)
            for doc in wanted[start:end]:
                weight = block.get(doc)
                if weight is not None:
                    found[doc] = weight
            start = end
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
