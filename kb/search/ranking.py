"""How every engine ranks: BM25F over title, headings, body and tags, then a bonus for a title that
holds the query's words. Engines find the matches and count the words; the scoring is here, so the
Whoosh and PostgreSQL engines order results alike."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

K1, B = 1.2, 0.75  # BM25's term-frequency saturation and length normalisation
# How much a word found in each field counts when ranking, against 1.0 for body text. Kept close
# to 1: a title holding every word of the query earns its own, much larger bonus (title_factor), and
# a strong per-word title weight lets one shared title word outrank the page the words came from.
FIELD_WEIGHTS = {"title": 1.0, "headings": 1.1, "body": 1.0, "tags": 1.1}
# The opening of the body (its first LEAD_WORDS words) is where an article states its subject; it is
# counted twice, so a word found there counts more than one in the appendix.
LEAD_WORDS = 50
# A title holding every word of the query multiplies the score by 1 + TITLE_MATCH_BONUS; the bonus
# fades fast (share ** TITLE_MATCH_POWER) as words are missing, so one shared title word barely counts.
TITLE_MATCH_BONUS = 3.0
TITLE_MATCH_POWER = 8


def idf(documents: int, frequency: int) -> float:
    """BM25's inverse document frequency of a word found in `frequency` of `documents` documents."""
    n = max(1, documents)
    return math.log(1.0 + (n - frequency + 0.5) / (frequency + 0.5))


def add_word(out: dict, weighted_tf: dict[Hashable, float], weight: float,
             length_of: Callable[[Hashable], float | None], average: float) -> None:
    """Add one typed word's BM25F score to each document: its field-weighted frequency, normalised
    by the document's body length and saturated, times ``weight`` (its idf and any boost)."""
    get = out.get
    for doc, tf in weighted_tf.items():
        length = length_of(doc)
        if average and length is not None:
            tf /= 1.0 - B + B * length / average
        out[doc] = get(doc, 0.0) + weight * tf * (K1 + 1.0) / (tf + K1)


def title_factor(share: float) -> float:
    """The multiplier for a title holding this share (0..1) of the query's words."""
    return 1.0 + TITLE_MATCH_BONUS * share ** TITLE_MATCH_POWER
