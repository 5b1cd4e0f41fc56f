"""The Whoosh backend: the only module that imports Whoosh.

Layout of INDEX_DIR: one sub-directory per index generation (``gen-...``) and a ``CURRENT`` file
naming the one in service. ``rebuild`` writes a new generation and renames a new ``CURRENT`` into
place, so readers switch atomically and a crash mid-rebuild leaves the old index serving.
"""

from __future__ import annotations

import fcntl
import hashlib
import heapq
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape as htmlescape
from itertools import islice
from pathlib import Path

from markupsafe import Markup
from whoosh import analysis, columns, fields, formats, highlight
from whoosh import index as windex
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.writing import LockError

from kb.search.documents import SearchDoc
from kb.search.query import MUST, NOT, PHRASE, PREFIX, ParsedQuery, parse

log = logging.getLogger(__name__)

POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"
WRITELOCK = "WRITELOCK"
FACET_FIELDS = ("kind", "category", "article_type", "versions")
TEXT_FIELDS = ("title", "headings", "body")
TITLE_BOOST = 2.5
HEADINGS_BOOST = 1.5
TAGS_BOOST = 1.5
# How much a match in each field counts when ranking (title and headings weigh more than body text).
FIELD_WEIGHTS = {"title": TITLE_BOOST, "headings": HEADINGS_BOOST, "body": 1.0, "tags": TAGS_BOOST}

_stem = analysis.StemmingAnalyzer(cachesize=100_000)
_plain = analysis.RegexTokenizer() | analysis.LowercaseFilter()
_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # the same words RegexTokenizer finds


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),
        kind=fields.ID(stored=True),
        doc_id=fields.STORED,
        title=fields.TEXT(analyzer=_stem, field_boost=TITLE_BOOST, stored=True),
        title_words=fields.TEXT(analyzer=_plain, phrase=False),
        headings=fields.TEXT(analyzer=_stem, field_boost=HEADINGS_BOOST),
        body=fields.TEXT(analyzer=_stem),
        # Unstemmed vocabulary of every text field: spelling corrections and prefix queries. Not
        # scorable and without frequencies, so it costs little to index.
        spell=fields.FieldType(formats.Existence(), analyzer=_plain, scorable=False, stored=False),
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True, field_boost=TAGS_BOOST, stored=True),
        category=fields.ID(stored=True),
        article_type=fields.ID(stored=True),
        versions=fields.KEYWORD(commas=True, stored=True),
        visibility=fields.ID(stored=True),
        solved=fields.BOOLEAN(stored=True),
        updated=fields.NUMERIC(int, bits=64, sortable=True, stored=True),
        # Exact body length in words: Whoosh keeps field lengths in one lossy byte, too coarse to
        # separate long documents that share most of their text.
        body_length=fields.COLUMN(columns.NumericColumn("I")),
        url=fields.STORED,
        category_name=fields.STORED,
        summary=fields.STORED,
        excerpt=fields.STORED,
        digest=fields.STORED,
    )


def doc_key(kind: str, doc_id: int) -> str:
    return f"{kind}:{int(doc_id)}"


def doc_digest(doc: SearchDoc) -> str:
    """A fingerprint of everything indexed, so `search-check` can spot stale entries."""
    data = asdict(doc)
    data["updated"] = _timestamp(doc.updated)
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _timestamp(value: datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def doc_fields(doc: SearchDoc, excerpt_chars: int) -> dict:
    """The Whoosh fields for one search document."""
    headings = "\n".join(doc.headings or [])
    values = {
        "key": doc_key(doc.kind, doc.id),
        "kind": doc.kind,
        "doc_id": int(doc.id),
        "title": doc.title or "",
        "title_words": doc.title or "",
        "headings": headings,
        "body": doc.body or "",
        "body_length": len(_WORD.findall(doc.body or "")),
        # Each distinct word once: the field only answers "which words exist", so repeats cost for nothing.
        "spell": " ".join(dict.fromkeys(_WORD.findall(
            "\n".join((doc.title or "", headings, " ".join(doc.tags or []), doc.body or "")).lower()))),
        "visibility": doc.visibility,
        "solved": bool(doc.solved),
        "updated": _timestamp(doc.updated),
        "url": doc.url,
        "category_name": doc.category_name or "",
        "summary": doc.summary or "",
        "excerpt": (doc.body or "")[:excerpt_chars],
        "digest": doc_digest(doc),
    }
    tags = ",".join(t.strip().lower().replace(",", " ") for t in doc.tags or [] if t.strip())
    versions = ",".join(v.strip().replace(",", " ") for v in doc.versions or [] if v.strip())
    for name, value in (("tags", tags), ("versions", versions), ("category", doc.category),
                        ("article_type", doc.article_type)):
        if value:
            values[name] = value
    return values


# --- where the index lives -------------------------------------------------------------------

def index_root(config) -> Path:
    return Path(config["INDEX_DIR"])


def current_generation(root: Path) -> str | None:
    """The generation directory in service, or None when there is no index yet."""
    try:
        name = (root / POINTER).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name.startswith(GENERATION_PREFIX) or "/" in name or not (root / name).is_dir():
        return None
    return name


def _set_current(root: Path, name: str) -> None:
    tmp = root / f".{POINTER}.{os.getpid()}.{uuid.uuid4().hex}"
    with open(tmp, "w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def _flock(path: Path, timeout: float | None = None):
    """An exclusive OS file lock between processes (waits up to timeout; None waits forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"could not lock {path}") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _new_generation(root: Path) -> tuple[str, Path]:
    name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = root / name
    path.mkdir(parents=True)
    return name, path


def ensure_index(root: Path) -> str:
    """Return the generation in service, creating an empty index the first time."""
    name = current_generation(root)
    if name is not None:
        return name
    with _flock(root / ".create.lock"):
        name = current_generation(root)
        if name is None:
            name, path = _new_generation(root)
            windex.create_in(str(path), make_schema())
            _set_current(root, name)
    return name


_indexes: OrderedDict[str, object] = OrderedDict()


def open_generation(root: Path, name: str):
    """The Whoosh index of one generation, kept per process.

    Opening reads the newest table of contents, which a writer in another process may replace at
    that moment; Whoosh's own open does not retry, so this does.
    """
    path = str(root / name)
    ix = _indexes.get(path)
    if ix is None:
        for attempt in range(20):
            try:
                ix = windex.open_dir(path)
                break
            except FileNotFoundError:
                if attempt == 19:
                    raise
                time.sleep(0.01)
        _indexes[path] = ix
        while len(_indexes) > 16:
            _indexes.popitem(last=False)
    return ix


def index_exists(root: Path) -> bool:
    return current_generation(root) is not None


# --- one searcher per process ------------------------------------------------------------------

class _Holder:
    """The worker's searcher for one index directory, refreshed at most every refresh interval."""

    def __init__(self):
        self.lock = threading.RLock()
        self.name: str | None = None
        self.ix = None
        self.searcher = None
        self.checked = 0.0
        self.cache: dict = {}
        self.term_cache_postings = 1_000_000

    def close(self):
        if self.searcher is not None:
            try:
                self.searcher.close()
            except OSError:  # a searcher on a deleted generation may fail to close; nothing to keep
                log.debug("search: closing an old searcher failed", exc_info=True)
        self.searcher = None


_holders: OrderedDict[str, _Holder] = OrderedDict()
_holders_lock = threading.Lock()
_MAX_HOLDERS = 4


def _holder(root: Path) -> _Holder:
    key = str(root)
    with _holders_lock:
        holder = _holders.get(key)
        if holder is None:
            holder = _holders[key] = _Holder()
            while len(_holders) > _MAX_HOLDERS:
                _, old = _holders.popitem(last=False)
                old.close()
        _holders.move_to_end(key)
        return holder


def searcher_opened_count() -> int:
    """How many searchers this process has opened (the benchmark checks it stays flat)."""
    return _stats["opened"]


_stats = {"opened": 0, "refreshed": 0}


def expire(root: Path) -> None:
    """Make the next search look for index changes at once (after this process wrote)."""
    _holder(root).checked = 0.0


def current_searcher(root: Path, refresh_interval: float, term_cache_postings: int = 1_000_000) -> _Holder:
    """The process's holder, with a searcher no older than refresh_interval. Call with holder.lock held."""
    holder = _holder(root)
    holder.term_cache_postings = term_cache_postings
    now = time.monotonic()
    if holder.searcher is not None and now - holder.checked < refresh_interval:
        return holder
    holder.checked = now
    name = ensure_index(root)
    if name != holder.name or holder.searcher is None:
        ix = open_generation(root, name)
        searcher = ix.searcher()
        _stats["opened"] += 1
        holder.close()
        holder.name, holder.ix, holder.searcher, holder.cache = name, ix, searcher, {}
    elif holder.ix.latest_generation() != holder.searcher.reader().generation():
        # Not Searcher.refresh(): Whoosh-Reloaded 2.7.5 reuses segment readers that miss new deletions.
        searcher = holder.ix.searcher()
        _stats["refreshed"] += 1
        holder.close()
        holder.searcher, holder.cache = searcher, {}
    return holder


# --- writing -------------------------------------------------------------------------------------

def try_writer(root: Path, memory_mb: int):
    """The index writer of the generation in service, or None when another process holds it."""
    for _ in range(3):
        name = ensure_index(root)
        ix = open_generation(root, name)
        try:
            writer = ix.writer(limitmb=memory_mb)
        except LockError:
            return None
        if current_generation(root) == name:
            return writer
        # A rebuild swapped generations while we waited: write to the new one instead.
        writer.cancel()
    return None


def apply_docs(writer, kind: str, ids, docs: dict, excerpt_chars: int) -> int:
    """Put each built document into the index, or take it out when the builder returned None."""
    count = 0
    for doc_id in ids:
        doc = docs.get(doc_id)
        if doc is None:
            writer.delete_by_term("key", doc_key(kind, doc_id))
        else:
            writer.update_document(**doc_fields(doc, excerpt_chars))
        count += 1
    return count


@dataclass
class RebuildTarget:
    root: Path
    name: str
    old: str | None
    ix: object
    writer: object
    old_lock: object


@contextmanager
def new_generation(root: Path, memory_mb: int, lock_timeout: float):
    """Build a fresh index beside the one in service; on success it replaces it atomically.

    The old generation's writer lock is held throughout, so outbox rows committed meanwhile wait
    (nobody can drain them into the index about to be retired) and are drained into the new one.
    """
    root.mkdir(parents=True, exist_ok=True)
    with _flock(root / ".rebuild.lock"):
        old = current_generation(root)
        old_lock = None
        if old is not None:
            old_lock = open_generation(root, old).lock(WRITELOCK)
            deadline = time.monotonic() + lock_timeout
            while not old_lock.acquire(blocking=False):
                if time.monotonic() >= deadline:
                    raise TimeoutError("another process kept the search index writer too long; try again")
                time.sleep(0.05)
        try:
            name, path = _new_generation(root)
            ix = windex.create_in(str(path), make_schema())
            writer = ix.writer(limitmb=memory_mb)
            target = RebuildTarget(root, name, old, ix, writer, old_lock)
            try:
                yield target
            except BaseException:
                writer.cancel()
                shutil.rmtree(path, ignore_errors=True)
                raise
            writer.commit()
            _set_current(root, name)
        finally:
            if old_lock is not None:
                old_lock.release()
        _remove_old_generations(root, keep={name, old})


def _remove_old_generations(root: Path, keep: set) -> None:
    """Delete generations no longer in service (the previous one stays for workers still switching)."""
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith(GENERATION_PREFIX) and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def stored_digests(root: Path) -> dict[str, str]:
    """key -> digest of every document in the index in service."""
    name = current_generation(root)
    if name is None:
        return {}
    ix = open_generation(root, name)
    with ix.searcher() as searcher:
        return {f["key"]: f.get("digest", "") for f in searcher.all_stored_fields()}


def doc_count(root: Path) -> int:
    name = current_generation(root)
    if name is None:
        return 0
    return open_generation(root, name).doc_count()


# --- querying --------------------------------------------------------------------------------------

@dataclass
class Hit:
    url: str
    title: str
    kind: str
    snippet: Markup
    score: float
    id: int = 0
    category: str = ""
    category_name: str = ""
    article_type: str = ""
    versions: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    updated: datetime | None = None
    solved: bool = False
    summary: str = ""

    def as_json(self) -> dict:
        return {"url": self.url, "title": self.title, "kind": self.kind, "snippet": str(self.snippet),
                "score": round(self.score, 4)}


@dataclass
class Outcome:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    did_you_mean: str | None
    loose: bool = False


class _MarkFormatter(highlight.Formatter):
    """Escaped text with the matched words in <mark>."""

    between = " … "

    def _text(self, text):
        return htmlescape(text, quote=False)

    def format_token(self, text, token, replace=False):
        return "<mark>" + htmlescape(highlight.get_text(text, token, replace), quote=False) + "</mark>"


@dataclass
class _Built:
    query: object
    loose: object | None
    highlight_terms: set
    corrected: str | None


def _analyse(text: str) -> list[str]:
    return [t.text for t in _stem(text)]


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


def _known(reader, stemmed: list[str], raw: str) -> bool:
    if not stemmed:
        return True
    for term in stemmed:
        if not any(reader.doc_frequency(name, term) for name in TEXT_FIELDS):
            return reader.doc_frequency("tags", raw.lower()) > 0
    return True


def _levenshtein_within(a: str, b: str, limit: int) -> int:
    """Damerau-style edit distance of a and b, or limit+1 as soon as it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2 = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def corrections(reader, word: str, maxdist: int, cache: dict, limit: int = 3, fieldname: str = "spell") -> list[str]:
    """Known words within maxdist edits of word, closest and most frequent first."""
    key = (word, maxdist, fieldname)
    if key in cache:
        return cache[key]
    found: list[tuple[int, int, str]] = []
    for prefix in (word[:1], ""):
        for btext in reader.expand_prefix(fieldname, prefix):
            candidate = btext.decode("utf-8") if isinstance(btext, bytes) else btext
            if prefix == "" and candidate[:1] == word[:1]:
                continue  # already seen in the first pass
            if abs(len(candidate) - len(word)) > maxdist or candidate == word:
                continue
            distance = _levenshtein_within(word, candidate, maxdist)
            if distance <= maxdist:
                found.append((distance, -reader.doc_frequency(fieldname, candidate), candidate))
        if found:
            break
    result = [c for _, _, c in sorted(found)[:limit]]
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
    parts = [wq.Term("spell", t) for t in terms] + [wq.Term("title_words", t, boost=TITLE_BOOST) for t in terms]
    return wq.Or(parts), terms


def build_query(reader, parsed: ParsedQuery, config, cache: dict) -> _Built | None:
    """Whoosh queries for a parsed query: exact words, with fuzzy alternatives for unknown words."""
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    two_edits = int(config["SEARCH_FUZZY_TWO_EDITS_LENGTH"])
    fuzzy_weight = float(config["SEARCH_FUZZY_WEIGHT"])
    highlight_terms: set[str] = set()
    corrected_words: list[str] = []
    changed = False
    clause_queries = []
    for clause in parsed.clauses:
        if clause.kind == PREFIX:
            q, terms = _prefix_query(reader, clause.text, cache.setdefault("prefix", {}))
            highlight_terms.update(_analyse(" ".join(terms)))
            clause_queries.append(q)
            corrected_words.append(clause.text + "*")
            continue
        stemmed = _analyse(clause.text)
        q = _word_query(stemmed, clause.text, phrase=clause.kind == PHRASE and '"' in clause.text)
        typed = clause.text
        if q is not None and clause.kind != PHRASE and clause.occur != NOT and not _known(reader, stemmed, clause.text):
            lowered = clause.text.lower()
            options = []
            if len(lowered) >= fuzzy_min:
                maxdist = 2 if len(lowered) >= two_edits else 1
                options = corrections(reader, lowered, maxdist, cache.setdefault("fuzzy", {}))
            if options:
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
    return _Built(positive, loose, highlight_terms, " ".join(corrected_words) if changed else None)


def _value_sets(holder: _Holder, fieldname: str) -> dict[str, frozenset]:
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
                    live = _live(leaf, _leaf_postings(leaf, fieldname, value)[0])
                    docs.update(live if offset == 0 else (d + offset for d in live))
            values[value] = frozenset(docs)
        sets[fieldname] = values
    return sets[fieldname]


def allowed_docs(holder: _Holder, visibility: set[str], kinds, filters: dict) -> frozenset:
    """Documents the viewer may see that also pass the facet filters."""
    key = (tuple(sorted(visibility)), tuple(sorted(kinds or ())),
           tuple(sorted((k, v) for k, v in filters.items() if v)))
    cache = holder.cache.setdefault("allowed", {})
    if key in cache:
        return cache[key]
    by_visibility = _value_sets(holder, "visibility")
    allowed = frozenset().union(*(by_visibility.get(v, frozenset()) for v in visibility))
    if kinds:
        by_kind = _value_sets(holder, "kind")
        allowed &= frozenset().union(*(by_kind.get(k, frozenset()) for k in kinds))
    for fieldname, value in filters.items():
        if value:
            allowed &= _value_sets(holder, fieldname).get(value, frozenset())
    if len(cache) > 256:
        cache.clear()
    cache[key] = allowed
    return allowed


def _leaf_postings(leaf, fieldname: str, text: str) -> tuple[list[int], list[float]]:
    """Document numbers and term weights of one term in one segment, a posting block at a time."""
    try:
        btext = leaf._text_to_bytes(fieldname, text)
        matcher = leaf._terms.matcher(fieldname, btext, leaf.schema[fieldname].format, scorer=None)
        ids: list[int] = []
        weights: list[float] = []
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            ids.extend(matcher._ids[matcher._i:])
            weights.extend(matcher._weights[matcher._i:])
            matcher._next_block()
    except AttributeError:  # another codec: the slower, public way
        matcher = leaf.postings(fieldname, text)
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights
    return ids, weights


def _live(leaf, ids) -> frozenset:
    """The ids of a segment's postings minus its deleted documents."""
    docs = frozenset(ids)
    return docs - leaf.deleted_docs_set if leaf.has_deletions() else docs


K1, B = 1.2, 0.75
_LENGTH_TABLE = [byte_to_length(i) for i in range(256)]
_segment_lengths: OrderedDict[tuple, list[int]] = OrderedDict()


def _field_lengths(holder: _Holder, fieldname: str) -> tuple[list[int] | None, float]:
    """(each document's length in a scorable field by global number, the average), cached per segment."""
    cache = holder.cache.setdefault("lengths", {})
    if fieldname in cache:
        return cache[fieldname]
    reader = holder.searcher.reader()
    if not reader.schema[fieldname].scorable:
        cache[fieldname] = (None, 0.0)
        return cache[fieldname]
    exact = fieldname == "body" and "body_length" in reader.schema
    lengths: list[int] = []
    for leaf, offset in reader.leaf_readers():
        segment = leaf.segment()
        key = (segment.segment_id() if hasattr(segment, "segment_id") else id(leaf), fieldname)
        part = _segment_lengths.get(key)
        if part is None:
            try:
                if exact and leaf.has_column("body_length"):
                    part = list(leaf.column_reader("body_length"))
                else:
                    column = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                    part = [_LENGTH_TABLE[b] for b in column] if column is not None else []
            except AttributeError:
                part = [leaf.doc_field_length(d, fieldname, 0) for d in range(leaf.doc_count_all())]
            _segment_lengths[key] = part
            while len(_segment_lengths) > 64:
                _segment_lengths.popitem(last=False)
        if len(lengths) < offset:
            lengths.extend([0] * (offset - len(lengths)))
        lengths.extend(part)
    average = (sum(lengths) / len(lengths)) if exact and lengths else reader.field_length(fieldname) / max(1, reader.doc_count())
    cache[fieldname] = (lengths, average)
    return cache[fieldname]


def term_postings(holder: _Holder, fieldname: str, text: str) -> tuple[frozenset, dict]:
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
            if (fieldname, text) not in leaf:
                continue
            ids, weights = _leaf_postings(leaf, fieldname, text)
            live = _live(leaf, ids)
            if offset:
                ids = [d + offset for d in ids]
                live = frozenset(d + offset for d in live)
            frequencies.update(zip(ids, weights))
            docs = docs | live if docs else live
    found = (docs, frequencies)
    cache[key] = found
    holder.cache["term_postings"] = holder.cache.get("term_postings", 0) + len(frequencies)
    while holder.cache["term_postings"] > holder.term_cache_postings and len(cache) > 1:
        _, (_, old) = cache.popitem(last=False)
        holder.cache["term_postings"] -= len(old)
    return found




def query_docs(holder: _Holder, q) -> frozenset:
    """The documents a query matches, by set algebra on posting lists (no scoring)."""
    if q is None or isinstance(q, type(wq.NullQuery)):
        return frozenset()
    if isinstance(q, wq.Term):
        return term_postings(holder, q.fieldname, q.text)[0]
    if isinstance(q, wq.AndNot):
        return query_docs(holder, q.a) - query_docs(holder, q.b)
    if isinstance(q, wq.And):
        parts = sorted((query_docs(holder, sub) for sub in q.subqueries), key=len)
        result = parts[0] if parts else frozenset()
        for part in parts[1:]:
            if not result:
                break
            result = result & part
        return result
    if isinstance(q, wq.Or):
        return frozenset().union(*(query_docs(holder, sub) for sub in q.subqueries))
    return frozenset(q.matcher(holder.searcher).all_ids())


def _add_word(holder: _Holder, terms: list, matched: set, out: dict, boost: float) -> None:
    """BM25F for one typed word: its weighted frequencies in every field are summed, then saturated."""
    combined: dict[int, float] = {}
    df = 0
    for term in terms:
        docs, frequencies = term_postings(holder, term.fieldname, term.text)
        df = max(df, len(docs))
        weight = getattr(term, "boost", 1.0) * FIELD_WEIGHTS.get(term.fieldname, 1.0)
        lengths, average = _field_lengths(holder, term.fieldname)
        size = len(lengths) if lengths else 0
        get = combined.get
        for doc in (docs & matched) if len(docs) > len(matched) else (matched & docs):
            tf = frequencies[doc] * weight
            if average and doc < size:
                tf /= 1.0 - B + B * lengths[doc] / average
            combined[doc] = get(doc, 0.0) + tf
    if not combined:
        return
    n = max(1, holder.searcher.doc_count())
    idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) * boost
    get = out.get
    for doc, tf in combined.items():
        out[doc] = get(doc, 0.0) + idf * tf * (K1 + 1.0) / (tf + K1)


def _add_scores(holder: _Holder, q, matched: set, out: dict, boost: float = 1.0) -> None:
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
        inside = set(query_docs(holder, q) & matched)
        if inside:
            for word in q.words:
                _add_word(holder, [wq.Term(q.fieldname, word)], inside, out, boost * 1.5)
    else:
        for doc in query_docs(holder, q) & matched:
            out[doc] = out.get(doc, 0.0) + 0.5 * boost


def rank(holder: _Holder, q, matched: set, limit: int) -> list[tuple[int, float]]:
    """The best `limit` matched documents by score (ties: older document number first)."""
    scores: dict[int, float] = {}
    _add_scores(holder, q, matched, scores)
    best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
    if len(best) < limit and len(scores) < len(matched):
        best += [(doc, 0.0) for doc in sorted(matched - scores.keys())[: limit - len(best)]]
    return best


def _matching(holder: _Holder, q, allowed: frozenset) -> set:
    if q is None:
        return set()
    return set(query_docs(holder, q) & allowed)


def _facets(holder: _Holder, matched: set) -> dict[str, dict[str, int]]:
    facets = {}
    for fieldname in FACET_FIELDS:
        counts = {}
        for value, docs in _value_sets(holder, fieldname).items():
            n = len(docs & matched) if len(docs) > len(matched) else len(matched & docs)
            if n:
                counts[value] = n
        facets[fieldname] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return facets


_patterns: OrderedDict[frozenset, re.Pattern | None] = OrderedDict()


def holder_pattern(terms: set):
    """A regex finding words that start like the query's stems (stems are mostly word prefixes)."""
    key = frozenset(terms)
    if key not in _patterns:
        stems = sorted((t for t in key if t), key=len, reverse=True)
        _patterns[key] = re.compile(r"\b(?:" + "|".join(re.escape(t[:5]) for t in stems) + ")", re.IGNORECASE) if stems else None
        while len(_patterns) > 256:
            _patterns.popitem(last=False)
    return _patterns[key]


def _snippet(fields_: dict, terms: set, config) -> Markup:
    text = fields_.get("excerpt") or ""
    chars = int(config["SEARCH_SNIPPET_CHARS"])
    if text and terms:
        # Analyse only the stretch around the first likely match, not the whole excerpt.
        pattern = holder_pattern(terms)
        first = pattern.search(text) if pattern is not None else None
        start = max(0, first.start() - chars) if first else 0
        window = text[start:start + chars * 4]
        if start:
            window = window.split(" ", 1)[-1]
        fragmenter = highlight.ContextFragmenter(maxchars=chars, surround=chars // 3)
        try:
            marked = highlight.highlight(window, frozenset(terms), _stem, fragmenter, _MarkFormatter(), top=2)
        except Exception:  # a highlighting failure must not cost the result: plain text instead
            log.warning("search: highlighting failed", exc_info=True)
            marked = ""
        if marked:
            return Markup(marked)
    plain = fields_.get("summary") or text
    if len(plain) > chars:
        plain = plain[:chars].rsplit(" ", 1)[0] + " …"
    return Markup(htmlescape(plain, quote=False))


def _hit(fields_: dict, score: float, terms: set, config) -> Hit:
    updated = fields_.get("updated")
    return Hit(
        url=fields_.get("url", ""),
        title=fields_.get("title", ""),
        kind=fields_.get("kind", ""),
        snippet=_snippet(fields_, terms, config),
        score=float(score or 0.0),
        id=int(fields_.get("doc_id") or 0),
        category=fields_.get("category", ""),
        category_name=fields_.get("category_name", ""),
        article_type=fields_.get("article_type", ""),
        versions=[v for v in (fields_.get("versions") or "").split(",") if v],
        tags=[t for t in (fields_.get("tags") or "").split(",") if t],
        updated=datetime.fromtimestamp(updated, UTC) if updated else None,
        solved=bool(fields_.get("solved")),
        summary=fields_.get("summary", ""),
    )


def run_search(root: Path, config, text: str, visibility: set[str], *, kinds=None, filters=None,
               page: int = 1, per_page: int = 10, sort: str = "relevance") -> Outcome:
    """Search the index in service as a viewer with the given visibility tokens."""
    filters = {k: v for k, v in (filters or {}).items() if k in ("category", "article_type", "versions") and v}
    parsed = parse(text, max_length=int(config["SEARCH_QUERY_MAX_LENGTH"]),
                   max_terms=int(config["SEARCH_QUERY_MAX_TERMS"]),
                   prefix_min=int(config["SEARCH_PREFIX_MIN_LENGTH"]))
    holder = _holder(root)
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
            matched = _matching(holder, built.query if built else None, allowed)
            if not matched and built is not None and built.loose is not None:
                matched = _matching(holder, built.loose, allowed)
                loose = bool(matched)
        total = len(matched)
        facets = _facets(holder, matched)
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
                hits.append(_hit(searcher.stored_fields(docnum), score, terms, config))
        did_you_mean = None
        if built is not None and built.corrected:
            did_you_mean = built.corrected
        return Outcome(hits, total, facets, did_you_mean, loose)


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
    from kb.search.query import _WORDCHARS, clean

    text = clean(prefix, int(config["SEARCH_QUERY_MAX_LENGTH"])).lower()
    words = _WORDCHARS.findall(text)[: int(config["SEARCH_QUERY_MAX_TERMS"])]
    if len(text) < int(config["SEARCH_SUGGEST_MIN_CHARS"]) or not words:
        return []
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    holder = _holder(root)
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


def health(root: Path, refresh_interval: float) -> int:
    holder = _holder(root)
    with holder.lock:
        holder = current_searcher(root, refresh_interval)
        return holder.searcher.doc_count()
