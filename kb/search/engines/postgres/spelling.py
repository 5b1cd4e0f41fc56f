"""Near spellings of a typed word, from the words of documents the viewer may see.

Candidates come from search_lexemes through its trigram index (pg_trgm), restricted to the
viewer's visibilities; the edit distance (optimal string alignment, a swap of two neighbours is one
edit) is then counted exactly, as the Whoosh engine counts it, and the commoner of two equally near
words (more documents hold its stems, by search_terms) comes first.

The word list keeps words of removed documents until the next rebuild, so a near spelling is not
proof that a page the viewer may see still holds it: as an alternative it matches nothing then, and
"Did you mean" offers only a spelling that a result holds (planning.Plan.correction). Checking every
candidate against the documents here instead cost a bitmap of every document holding it, about
2 ms a query at 30k documents.
"""

from __future__ import annotations

from rapidfuzz.distance import OSA
from sqlalchemy import text

from kb.search.engines.postgres.models import statement

# An edit changes up to four of a word's trigrams (a swap of two neighbours; a substitution three)
# and pg_trgm pads words (two spaces in front, one behind): a word of L letters has L + 1 trigrams,
# so d edits keep at least L + 1 - 4d of them.
_PADDING = 1

_CANDIDATES = text("""
SELECT t.w, l.word, l.stems,
       (SELECT CASE WHEN count(*) < cardinality(l.stems) THEN 1 ELSE min(s.documents) END
        FROM search_terms s WHERE s.lexeme = ANY(l.stems)) AS documents
FROM unnest(CAST(:words AS text[]), CAST(:maxdists AS int[]), CAST(:thresholds AS real[]))
       AS t(w, d, least_similar)
CROSS JOIN LATERAL (SELECT DISTINCT word, tsvector_to_array(to_tsvector('kb_english', word)) AS stems
                    FROM search_lexemes
                    WHERE visibility = ANY(CAST(:visibility AS text[])) AND word % t.w
                      AND length(word) BETWEEN length(t.w) - t.d AND length(t.w) + t.d
                      AND similarity(word, t.w) >= t.least_similar) AS l
""")

STOP_WORD_DOCUMENTS = 2**31 - 1  # a word without stems is in every page: the commonest of all


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
    """corrections() for several words {word: maxdist} at once: two statements in all."""
    if not words:
        return {}
    ordered = sorted(words)
    thresholds = [threshold(len(w), words[w]) for w in ordered]
    connection.execute(statement("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                       {"t": f"{min(thresholds):.3f}"})
    found = connection.execute(_CANDIDATES, {"visibility": sorted(visibility), "words": ordered,
                                             "maxdists": [words[w] for w in ordered],
                                             "thresholds": thresholds}).all()
    ranked: dict[str, list[tuple]] = {}
    for word, candidate, stems, documents in found:
        if candidate != word:
            distance = OSA.distance(word, candidate)
            if distance <= words[word]:
                commonness = documents if stems else STOP_WORD_DOCUMENTS
                ranked.setdefault(word, []).append((distance, -commonness, candidate, list(stems)))
    return {word: [(candidate, stems) for _, _, candidate, stems in sorted(near)[:limit]]
            for word, near in ranked.items()}
