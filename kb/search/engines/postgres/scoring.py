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
    fields: dict[tuple, dict[str, dict[str, int]]] = {}
    counted: dict[str, int] = {}
    for kind, doc_id, length, lexeme, weights, frequencies in rows:
        if frequencies and not counted:  # the same on every row: read once
            counted = json.loads(frequencies)
        key = (kind, doc_id)
        lengths[key] = length
        per_doc = fields.setdefault(key, {})
        if lexeme is not None:
            counts: dict[str, int] = {}
            for weight in weights or ("D",):
                field = FIELDS.get(weight, "body")
                counts[field] = counts.get(field, 0) + 1
            per_doc[lexeme] = counts
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
                for key, per_doc in fields.items():
                    tf = sum(ranking.FIELD_WEIGHTS[f] * n for s in group for f, n in per_doc.get(s, {}).items())
                    if tf:
                        weighted[key] = tf
                if weighted:
                    df = max(frequencies.get(s, 0) for s in group)
                    ranking.add_word(scores, weighted, ranking.idf(documents, df) * boost, length_of, average)
    if parts:
        for key, per_doc in fields.items():
            covered = sum(1 for part in parts if any(_in_title(option, per_doc) for option in part))
            if covered:
                scores[key] *= ranking.title_factor(covered / len(parts))
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:needed]


def _in_title(option: Option, per_doc: dict[str, dict[str, int]]) -> bool:
    stems = option.stems
    held = [s for s in stems if per_doc.get(s, {}).get("title")]
    return bool(held) if option.any_stem else bool(stems) and len(held) == len(stems)


def holder(rows) -> Callable[[list[str]], bool]:
    """Whether one document of these rows (as rerank reads them) holds every one of some stems."""
    held: dict[tuple, set[str]] = {}
    for kind, doc_id, _, lexeme, _, _ in rows:
        held.setdefault((kind, doc_id), set()).add(lexeme)
    return lambda stems: any(held_here.issuperset(stems) for held_here in held.values())
