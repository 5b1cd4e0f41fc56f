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
SELECT DISTINCT word FROM search_lexemes
WHERE visibility = ANY(CAST(:visibility AS text[])) AND word % :word
  AND length(word) BETWEEN :shortest AND :longest
""")

# How many visible documents hold each candidate (counted up to :cap), and its stems.
_VISIBLE = text("""
SELECT c, tsvector_to_array(to_tsvector('kb_english', c)) AS stems,
       (SELECT count(*) FROM (SELECT 1 FROM search_documents d
                              WHERE d.visibility = ANY(CAST(:visibility AS text[]))
                                AND d.tsv @@ plainto_tsquery('kb_english', c) LIMIT :cap) x) AS documents
FROM unnest(CAST(:candidates AS text[])) AS c
""")

FREQUENCY_CAP = 500


def threshold(length: int, maxdist: int) -> float:
    """The trigram similarity a word of this length keeps after maxdist edits, a little below."""
    grams = length + _PADDING
    kept = max(1, grams - 4 * maxdist)
    return max(0.05, kept / (grams + 4 * maxdist) - 0.02)


def corrections(connection, word: str, maxdist: int, visibility: set[str], limit: int) -> list[tuple[str, list[str]]]:
    """Up to ``limit`` (word, its stems) within maxdist edits, nearest and commonest first; a stop
    word has no stems."""
    connection.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                       {"t": f"{threshold(len(word), maxdist):.3f}"})
    found = connection.execute(_CANDIDATES, {"visibility": sorted(visibility), "word": word,
                                             "shortest": len(word) - maxdist,
                                             "longest": len(word) + maxdist}).scalars().all()
    near = {c: OSA.distance(word, c) for c in found if c != word}
    near = {c: d for c, d in near.items() if d <= maxdist}
    if not near:
        return []
    counted = connection.execute(_VISIBLE, {"visibility": sorted(visibility), "candidates": sorted(near),
                                            "cap": FREQUENCY_CAP}).all()
    ranked = []
    for candidate, stems, documents in counted:
        stop_word = not stems
        if documents or stop_word:
            ranked.append((near[candidate], -(FREQUENCY_CAP if stop_word else documents), candidate, list(stems)))
    return [(candidate, stems) for _, _, candidate, stems in sorted(ranked)[:limit]]
