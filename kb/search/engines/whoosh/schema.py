"""What goes into the index: the Whoosh schema, its analyzers and the fields of one document."""

from __future__ import annotations

import hashlib
import json
import re

from whoosh import analysis, columns, fields, formats

from kb.search.documents import WORD, SearchDoc, doc_digest, doc_key, timestamp
from kb.search.ranking import FIELD_WEIGHTS as RANKING_WEIGHTS
from kb.search.ranking import LEAD_WORDS

# Fields counted on the results page besides each document's own facets (see FACET_FIELD).
CORE_FACETS = ("kind", "category")
# Every facet value of a document as one "name:value" term, so any facet a feature fills in can be
# filtered on and counted without a field of its own.
FACET_FIELD = "facet"
TEXT_FIELDS = ("title", "headings", "body")
# Ranking weights per field (kb.search.ranking); title_words counts as the title. The opening of the
# body (LEAD_WORDS) is indexed twice, so a word found there counts more than one in the appendix.
FIELD_WEIGHTS = {**RANKING_WEIGHTS, "title_words": RANKING_WEIGHTS["title"]}

STEM_ANALYZER = analysis.StemmingAnalyzer(cachesize=100_000)
PLAIN_ANALYZER = analysis.RegexTokenizer() | analysis.LowercaseFilter()


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),
        kind=fields.ID(stored=True),
        doc_id=fields.STORED,
        # Postings keep plain term frequencies; FIELD_WEIGHTS applies the weights when ranking.
        title=fields.TEXT(analyzer=STEM_ANALYZER, stored=True),
        title_words=fields.TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        # The body's first SEARCH_SUGGEST_OPENING_WORDS words, unstemmed: type-ahead matches them too.
        opening_words=fields.TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        headings=fields.TEXT(analyzer=STEM_ANALYZER),
        # No word positions: decoding them made every posting block of the biggest field several
        # times dearer to read. A quoted phrase is checked against the stored text instead
        # (matching.phrase_in_text); title and headings keep positions.
        body=fields.TEXT(analyzer=STEM_ANALYZER, phrase=False),
        # Unstemmed vocabulary of every text field: spelling corrections and prefix queries. Not
        # scorable and without frequencies, so it costs little to index.
        spell=fields.FieldType(formats.Existence(), analyzer=PLAIN_ANALYZER, scorable=False, stored=False),
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True, stored=True),
        category=fields.ID(stored=True),
        facet=fields.KEYWORD(commas=True),
        facets=fields.STORED,
        badges=fields.STORED,
        visibility=fields.ID(stored=True),
        # Sorted by its column and shown from its stored value, never searched by range: shift_step=0
        # indexes one term per document instead of the 16 trie terms range queries would need.
        updated=fields.NUMERIC(int, bits=64, sortable=True, stored=True, shift_step=0),
        # Exact body length in words: Whoosh keeps field lengths in one lossy byte, too coarse to
        # separate long documents that share most of their text.
        body_length=fields.COLUMN(columns.NumericColumn("I")),
        url=fields.STORED,
        category_name=fields.STORED,
        summary=fields.STORED,
        excerpt=fields.STORED,
        digest=fields.STORED,
    )


def schema_fingerprint(schema: fields.Schema) -> str:
    """A digest of every field's name, type and settings (analyzer included).

    Whoosh's ``Schema.__eq__`` cannot tell whether an index needs rebuilding: it ignores analyzers
    and a NUMERIC field's shift_step, and compares column types by identity, so two schemas built
    by the same ``make_schema()`` already differ.
    """
    described = {name: _describe(field) for name, field in schema.items()}
    return hashlib.sha1(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _describe(value, depth: int = 0):
    """A JSON-able description of a field setting, stable across processes (sets sorted, no addresses)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if depth > 6:
        return type(value).__qualname__
    if isinstance(value, (list, tuple)):
        return [_describe(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(str(_describe(v, depth + 1)) for v in value)
    if isinstance(value, dict):
        return {str(k): _describe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, re.Pattern):
        return [value.pattern, value.flags]
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    attrs = getattr(value, "__dict__", None)
    if attrs is None:
        return type(value).__qualname__
    # Underscored attributes that are caches or derived objects (a StemFilter's memoized stem
    # function, a NUMERIC field's struct) would differ between a fresh schema and one read back.
    return [type(value).__qualname__, {k: _describe(v, depth + 1) for k, v in attrs.items()
                                       if not k.startswith("_") or k in ("_typecode", "_default")}]


def facet_term(name: str, value: str) -> str:
    return f"{name}:{value}"


def doc_fields(doc: SearchDoc, excerpt_chars: int, opening_words: int = 30) -> dict:
    """The Whoosh fields for one search document."""
    headings = "\n".join(doc.headings or [])
    body_words = WORD.findall(doc.body or "")
    values = {
        "key": doc_key(doc.kind, doc.id),
        "kind": doc.kind,
        "doc_id": int(doc.id),
        "title": doc.title or "",
        "title_words": doc.title or "",
        "opening_words": " ".join(body_words[:opening_words]),
        "headings": headings,
        # The opening twice (see LEAD_WORDS): no extra field, so no extra posting list to read per query.
        "body": " ".join(body_words[:LEAD_WORDS]) + "\n" + (doc.body or ""),
        "body_length": len(body_words),
        # Each distinct word once: the field only answers "which words exist", so repeats cost for nothing.
        "spell": " ".join(dict.fromkeys(WORD.findall(
            "\n".join((doc.title or "", headings, " ".join(doc.tags or []), doc.body or "")).lower()))),
        "visibility": doc.visibility,
        "updated": timestamp(doc.updated),
        "url": doc.url,
        "category_name": doc.category_name or "",
        "summary": doc.summary or "",
        "excerpt": (doc.body or "")[:excerpt_chars],
        "digest": doc_digest(doc),
    }
    facets = {name: [v.strip().replace(",", " ") for v in vals if v and v.strip()]
              for name, vals in (doc.facets or {}).items()}
    values["facets"] = {name: vals for name, vals in facets.items() if vals}
    values["badges"] = list(doc.badges or [])
    tags = ",".join(t.strip().lower().replace(",", " ") for t in doc.tags or [] if t.strip())
    facet = ",".join(facet_term(name, v) for name, vals in values["facets"].items() for v in vals)
    for name, value in (("tags", tags), ("facet", facet), ("category", doc.category)):
        if value:
            values[name] = value
    return values
