"""What a search returns: hits with highlighted snippets, and facet counts."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import UTC, datetime
from functools import lru_cache
from html import escape as htmlescape

from markupsafe import Markup

from kb.search.documents import WORD
from kb.search.engine import Hit
from kb.search.engines.whoosh.matching import value_sets
from kb.search.engines.whoosh.schema import CORE_FACETS, FACET_FIELD, STEM_ANALYZER
from kb.search.engines.whoosh.searchers import Holder


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


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str | None:
    """A word as the index holds it (lower case, stemmed; None for a stop word)."""
    return next((token.text for token in STEM_ANALYZER(word)), None)


def _marked(text: str, terms: frozenset, chars: int, most: int = 2) -> str:
    """The text's best stretches (at most ``most``, about ``chars`` long each, in their order)
    escaped, with the words the query matched in <mark>; "" when none matched. Words are stemmed
    one by one through a cache: Whoosh's highlighter ran every word of every snippet through the
    whole analyzer, over a quarter of a results page's time."""
    matches = [m for m in WORD.finditer(text) if (stem := _stem(m.group())) is not None and stem in terms]
    if not matches:
        return ""
    surround = chars // 3
    groups: list[list[re.Match]] = []
    for match in matches:  # matches close enough to share one stretch go together
        if groups and match.end() - groups[-1][0].start() <= chars - surround:
            groups[-1].append(match)
        else:
            groups.append([match])
    best = sorted(sorted(groups, key=lambda g: (-len({m.group().lower() for m in g}), -len(g)))[:most],
                  key=lambda g: g[0].start())
    pieces = []
    for group in best:
        start = max(0, group[0].start() - surround)
        end = min(len(text), max(group[-1].end() + surround, start + chars))
        if start:  # begin and end on whole words
            space = text.find(" ", start, group[0].start())
            start = space + 1 if space >= 0 else group[0].start()
        if end < len(text):
            space = text.rfind(" ", group[-1].end(), end)
            end = space if space >= 0 else end
        at, out = start, []
        for match in group:
            out.append(htmlescape(text[at:match.start()], quote=False))
            out.append("<mark>" + htmlescape(match.group(), quote=False) + "</mark>")
            at = match.end()
        out.append(htmlescape(text[at:end], quote=False))
        pieces.append("".join(out).strip())
    return " … ".join(pieces)


def _snippet(fields_: dict, terms: set, config) -> Markup:
    text = fields_.get("excerpt") or ""
    chars = int(config["SEARCH_SNIPPET_CHARS"])
    if text and terms:
        # Only the stretch around the first likely match, not the whole excerpt.
        pattern = holder_pattern(terms)
        first = pattern.search(text) if pattern is not None else None
        start = max(0, first.start() - chars // 2) if first else 0
        window = text[start:start + chars * 2]
        if start:
            window = window.split(" ", 1)[-1]
        marked = _marked(window, frozenset(terms), chars)
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

