"""The re-ranking of the PostgreSQL engine's best matches with the BM25F and title-coverage scoring
the Whoosh engine uses (kb.search.ranking), from the query's lexemes as each document holds them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import NamedTuple

from kb.search import ranking
from kb.search.engines.postgres.planning import Option

# tsvector weights as the fields they were written from (writing.UPSERT), and what one position in
# each counts for.
FIELDS = {"A": "title", "B": "headings", "C": "body", "D": "tags"}
_WEIGHT_OF = {letter: ranking.FIELD_WEIGHTS[field] for letter, field in FIELDS.items()}

# A tsvector as text: 'lexeme':3A,17C,40 (quotes doubled, backslashes too; a bare position is weight D).
_LEXEME = re.compile(r"'((?:[^']|'')*)'(?::([0-9A-D,]+))?")


class Read(NamedTuple):
    """The documents read for the re-ranking: each one's length and the query's stems it holds,
    as {stem: (its field-weighted frequency, whether the title holds it)}; and the document
    counts of the query's stems (search_terms)."""

    documents: dict[tuple[str, int], tuple[int, dict[str, tuple[float, bool]]]]
    frequencies: dict[str, int]


def read(rows) -> Read:
    """Rows of (kind, doc_id, body_length, the tsvector cut down to the query's stems as text,
    the stems' document counts as JSON text), one per document."""
    documents: dict[tuple[str, int], tuple[int, dict[str, tuple[float, bool]]]] = {}
    frequencies: dict[str, int] = {}
    for kind, doc_id, length, held, counted in rows:
        if counted and not frequencies:  # the same on every row: read once
            frequencies = json.loads(counted)
        stems = {}
        for lexeme, positions in _LEXEME.findall(held or ""):
            lexeme = lexeme.replace("''", "'").replace("\\\\", "\\")
            if not positions:
                stems[lexeme] = (_WEIGHT_OF["D"], False)
                continue
            counts = {letter: positions.count(letter) for letter in "ABC"}
            counts["D"] = positions.count(",") + 1 - sum(counts.values())
            stems[lexeme] = (sum(_WEIGHT_OF[letter] * n for letter, n in counts.items()), counts["A"] > 0)
        documents[(kind, doc_id)] = (length, stems)
    return Read(documents, frequencies)


def rerank(found: Read, parts: list[list[Option]], stems: list[str], documents: int, average: float,
           needed: int) -> list[tuple[tuple[str, int], float]]:
    """The best `needed` (key, score) of the documents read."""
    lengths = {key: length for key, (length, _) in found.documents.items()}
    by_stem: dict[str, dict[tuple, float]] = {}  # stem -> {document: its field-weighted frequency}
    titled: dict[tuple, set[str]] = {}  # document -> the query's stems its title holds
    for key, (_, held) in found.documents.items():
        titled[key] = {stem for stem, (_, in_title) in held.items() if in_title}
        for stem, (tf, _) in held.items():
            by_stem.setdefault(stem, {})[key] = tf
    # A stem newer than the last count (search_terms) is taken as rare: one document.
    frequencies = {stem: int(found.frequencies.get(stem, 1)) for stem in stems}
    scores = {key: 0.0 for key in lengths}
    length_of = lengths.get
    for part in parts:
        for option in part:
            groups = [option.stems] if option.any_stem else [[s] for s in option.stems]
            boost = option.weight * (1.5 if option.phrase else 1.0)
            for group in groups:
                weighted: dict[tuple, float] = {}
                for stem in group:
                    for key, tf in by_stem.get(stem, {}).items():
                        weighted[key] = weighted.get(key, 0.0) + tf
                if weighted:
                    df = max(frequencies.get(s, 0) for s in group)
                    ranking.add_word(scores, weighted, ranking.idf(documents, df) * boost, length_of, average)
    if parts:
        for key, in_title in titled.items():
            if in_title:
                covered = sum(1 for part in parts if any(_in_title(option, in_title) for option in part))
                if covered:
                    scores[key] *= ranking.title_factor(covered / len(parts))
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:needed]


def _in_title(option: Option, in_title: set[str]) -> bool:
    """A prefix needs one completion in the title, any other option every one of its stems."""
    if option.any_stem:
        return not in_title.isdisjoint(option.stems)
    return bool(option.stems) and in_title.issuperset(option.stems)


def holder(found: Read) -> Callable[[list[str]], bool]:
    """Whether one of the documents read holds every one of some stems."""
    return lambda stems: any(held.keys() >= set(stems) for _, held in found.documents.values())


NOTHING_READ = Read({}, {})
