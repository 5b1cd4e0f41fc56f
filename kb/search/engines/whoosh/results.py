"""What a search returns: hits with highlighted snippets, and facet counts."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from datetime import UTC, datetime
from html import escape as htmlescape

from markupsafe import Markup
from whoosh import highlight

from kb.search.engine import Hit
from kb.search.engines.whoosh.matching import value_sets
from kb.search.engines.whoosh.schema import CORE_FACETS, FACET_FIELD, STEM_ANALYZER
from kb.search.engines.whoosh.searchers import Holder

log = logging.getLogger(__name__)


class _MarkFormatter(highlight.Formatter):
    """Escaped text with the matched words in <mark>."""

    between = " … "

    def _text(self, text):
        return htmlescape(text, quote=False)

    def format_token(self, text, token, replace=False):
        return "<mark>" + htmlescape(highlight.get_text(text, token, replace), quote=False) + "</mark>"


def facet_counts(holder: Holder, matched: set) -> dict[str, dict[str, int]]:
    """{facet: {value: matched documents having it}}, commonest first: kind, category and every
    facet the documents' features filled in."""
    counted: dict[str, dict[str, int]] = {name: {} for name in CORE_FACETS}
    for fieldname in (*CORE_FACETS, FACET_FIELD):
        for value, docs in value_sets(holder, fieldname).items():
            n = len(docs & matched) if len(docs) > len(matched) else len(matched & docs)
            if not n:
                continue
            name = fieldname
            if fieldname == FACET_FIELD:
                name, _, value = value.partition(":")
            counted.setdefault(name, {})[value] = n
    return {name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) for name, counts in counted.items()}


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
        start = max(0, first.start() - chars // 2) if first else 0
        window = text[start:start + chars * 2]
        if start:
            window = window.split(" ", 1)[-1]
        fragmenter = highlight.ContextFragmenter(maxchars=chars, surround=chars // 3)
        try:
            marked = highlight.highlight(window, frozenset(terms), STEM_ANALYZER, fragmenter, _MarkFormatter(), top=2)
        except Exception:  # a highlighting failure must not cost the result: plain text instead
            log.warning("search: highlighting failed", exc_info=True)
            marked = ""
        if marked:
            return Markup(marked)
    plain = fields_.get("summary") or text
    if len(plain) > chars:
        plain = plain[:chars].rsplit(" ", 1)[0] + " …"
    return Markup(htmlescape(plain, quote=False))


def make_hit(fields_: dict, score: float, terms: set, config) -> Hit:
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
        tags=[t for t in (fields_.get("tags") or "").split(",") if t],
        facets=dict(fields_.get("facets") or {}),
        badges=list(fields_.get("badges") or []),
        updated=datetime.fromtimestamp(updated, UTC) if updated else None,
        summary=fields_.get("summary", ""),
    )

