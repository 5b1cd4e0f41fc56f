"""Near spellings of a typed word, from the words of documents the viewer may see.

Candidates come from search_lexemes through its trigram index (pg_trgm), restricted to the
viewer's visibilities; the edit distance (optimal string alignment, a swap of two neighbours is one
edit) is then counted exactly, as the Whoosh engine counts it. A candidate is offered only when a
document the viewer may see still holds it (the word list keeps words of removed documents until
the next rebuild), and the commoner of two equally near words comes first.
"""

from __future__ import annotations

from rapidfuzz.distance import OSA
from sqlalchemy import text

# An edit changes up to four of a word's trigrams (a swap of two neighbours; a substitution three)
# and pg_trgm pads words (two spaces in front, one behind): a word of L letters has L + 1 trigrams,
# so d edits keep at least L + 1 - 4d of them.
_PADDING = 1

_CANDIDATES = text("""
SELECT t.w, l.word FROM unnest(CAST(:words AS text[]), CAST(:maxdists AS int[]), CAST(:thresholds AS real[]))
       AS t(w, d, least_similar)
CROSS JOIN LATERAL (SELECT DISTINCT word FROM search_lexemes
                    WHERE visibility = ANY(CAST(:visibility AS text[])) AND word % t.w
                      AND length(word) BETWEEN length(t.w) - t.d AND length(t.w) + t.d
                      AND similarity(word, t.w) >= t.least_similar) AS l
""")

# How many visible documents hold each candidate (counted up to :cap), and its stems.
_VISIBLE = text("""
SELECT c, tsvector_to_array(to_tsvector('kb_english', c)) AS stems,
       (SELECT count(*) FROM (SELECT 1 FROM search_documents d
                              WHERE d.visibility = ANY(CAST(:visibility AS text[]))
                                AND d.tsv @@ plainto_tsquery('kb_english', c) LIMIT :cap) x) AS documents
FROM unnest(CAST(:candidates AS text[])) AS c
""")

FREQUENCY_CAP = 100


def threshold(length: int, maxdist: int) -> float:
    """The trigram similarity a word of this length keeps after maxdist edits, a little below."""
    grams = length + _PADDING
    kept = max(1, grams - 4 * maxdist)
    return max(0.05, kept / (grams + 4 * maxdist) - 0.02)


def corrections(connection, word: str, maxdist: int, visibility: set[str], limit: int) -> list[tuple[str, list[str]]]:
    """Up to ``limit`` (word, its stems) within maxdist edits, nearest and commonest first; a stop
    word has no stems."""
    return corrections_of(connection, {word: maxdist}, visibility, limit).get(word, [])


def corrections_of(connection, words: dict[str, int], visibility: set[str],
                   limit: int) -> dict[str, list[tuple[str, list[str]]]]:
    """corrections() for several words {word: maxdist} at once: three statements in all."""
    if not words:
        return {}
    ordered = sorted(words)
    thresholds = [threshold(len(w), words[w]) for w in ordered]
    connection.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                       {"t": f"{min(thresholds):.3f}"})
    found = connection.execute(_CANDIDATES, {"visibility": sorted(visibility), "words": ordered,
                                             "maxdists": [words[w] for w in ordered],
                                             "thresholds": thresholds}).all()
    near: dict[str, dict[str, int]] = {}
    for word, candidate in found:
        if candidate != word:
            distance = OSA.distance(word, candidate)
            if distance <= words[word]:
                near.setdefault(word, {})[candidate] = distance
    candidates = sorted({c for per_word in near.values() for c in per_word})
    if not candidates:
        return {}
    counted = {c: (list(stems), documents) for c, stems, documents in connection.execute(
        _VISIBLE, {"visibility": sorted(visibility), "candidates": candidates, "cap": FREQUENCY_CAP})}
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for word, per_word in near.items():
        ranked = []
        for candidate, distance in per_word.items():
            stems, documents = counted[candidate]
            if documents or not stems:  # a stop word (no stems) is never private
                ranked.append((distance, -(FREQUENCY_CAP if not stems else documents), candidate, stems))
        out[word] = [(candidate, stems) for _, _, candidate, stems in sorted(ranked)[:limit]]
    return out
