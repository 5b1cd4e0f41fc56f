"""The re-ranking of the PostgreSQL engine's best matches with the BM25F and title-coverage scoring
the Whoosh engine uses (kb.search.ranking), from the query's lexemes as each document holds them."""

from __future__ import annotations

import json
from collections.abc import Callable

from kb.search import ranking
from kb.search.engines.postgres.planning import Option

# tsvector weights as the fields they were written from (writing.UPSERT).
FIELDS = {"A": "title", "B": "headings", "C": "body", "D": "tags"}


def rerank(rows, parts: list[list[Option]], stems: list[str], documents: int, average: float,
           needed: int) -> list[tuple[tuple[str, int], float]]:
    """The best `needed` (key, score), from rows of (kind, doc_id, body_length, lexeme, weights,
    frequencies as JSON text): one row per query lexeme a document holds, or one with no lexeme."""
    lengths: dict[tuple, int] = {}
    by_stem: dict[str, dict[tuple, float]] = {}  # stem -> {document: its field-weighted frequency}
    titled: dict[tuple, set[str]] = {}  # document -> the query's stems its title holds
    counted: dict[str, int] = {}
    field_weights = ranking.FIELD_WEIGHTS
    for kind, doc_id, length, lexeme, weights, frequencies in rows:
        if frequencies and not counted:  # the same on every row: read once
            counted = json.loads(frequencies)
        key = (kind, doc_id)
        lengths[key] = length
        titled.setdefault(key, set())
        if lexeme is not None:
            fields = [FIELDS.get(weight, "body") for weight in weights or ("D",)]
            by_stem.setdefault(lexeme, {})[key] = sum(field_weights[field] for field in fields)
            if "title" in fields:
                titled[key].add(lexeme)
    # A stem newer than the last count (search_terms) is taken as rare: one document.
    frequencies = {stem: int(counted.get(stem, 1)) for stem in stems}
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


def holder(rows) -> Callable[[list[str]], bool]:
    """Whether one document of these rows (as rerank reads them) holds every one of some stems."""
    held: dict[tuple, set[str]] = {}
    for kind, doc_id, _, lexeme, _, _ in rows:
        held.setdefault((kind, doc_id), set()).add(lexeme)
    return lambda stems: any(held_here.issuperset(stems) for held_here in held.values())
