"""A parsed query (kb.search.query) as PostgreSQL tsquery SQL, with the typo alternatives the Whoosh
engine would add, and the stems each part is ranked on.

Every typed word becomes plainto_tsquery (stemmed, stop words dropped), a quoted phrase
phraseto_tsquery, a prefix the visible words that start with it (as the Whoosh engine expands it);
MUST parts are joined with &&, OR groups with ||, NOT parts with && !!. Nothing typed reaches SQL
except as a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text

from kb.search.engines.postgres.models import statement
from kb.search.engines.postgres.spelling import corrections_of
from kb.search.query import MUST, NOT, PHRASE, PREFIX, ParsedQuery

PREFIX_EXPANSIONS = 64

# Until the search's savepoint ends (engine._confined): prefer the GIN indexes, because PostgreSQL
# does not count the cost of reading each tsvector (large, kept in the row) and on small tables
# picks a sequential scan many times slower than the index; price a random page as the search's
# tables are read, from memory, so the trigram index is taken for near spellings (1 ms a word,
# against 2 ms for scoring every word of a 2,000-word list); and no JIT, because the cost a
# disabled scan is given made some statements look expensive enough to compile, which took 210 ms
# (the document statistics, once a minute in every process) for a statement that runs in 1 ms.
PLANNER_SETTINGS = ("set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true), "
                    "set_config('random_page_cost', '1.1', true)")


def prefer_indexes(connection) -> None:
    """PLANNER_SETTINGS, for a search that does not start with the analysis of its words."""
    connection.execute(statement(f"SELECT {PLANNER_SETTINGS}"))


# A word is known when a page the viewer may see holds it as typed, or any page holds its stem (the
# last word count: reading every tsvector to check visibility took a quarter of a second at 30k
# pages; a stem known only from hidden pages just gets no correction, and finds nothing).
# Also sets the planner up for the rest of the search (PLANNER_SETTINGS, see prefer_indexes).
_ANALYSE = text(f"""
SELECT {PLANNER_SETTINGS}, t.ord, tsvector_to_array(to_tsvector('kb_english', t.w)) AS stems,
       CAST(phraseto_tsquery('kb_english', t.w) AS text) AS phrase,
       (EXISTS (SELECT 1 FROM search_lexemes l WHERE l.word = lower(t.w)
                AND l.visibility = ANY(CAST(:visibility AS text[])))
        OR EXISTS (SELECT 1 FROM search_terms s
                   WHERE s.lexeme = ANY(tsvector_to_array(to_tsvector('kb_english', t.w))))) AS known
FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS t(w, ord)
""")

_EXPAND = text("""
SELECT DISTINCT s FROM (SELECT DISTINCT word FROM search_lexemes
                        WHERE visibility = ANY(CAST(:visibility AS text[])) AND word LIKE :pattern
                        ORDER BY word LIMIT :limit) w,
     unnest(tsvector_to_array(to_tsvector('kb_english', w.word))) AS s
""")


@dataclass
class Option:
    """One way a part of the query matches: its tsquery SQL, the stems ranked, and its weight."""

    sql: str
    stems: list[str]
    weight: float = 1.0
    phrase: bool = False
    any_stem: bool = False  # a prefix: one word, whichever completion a document holds


@dataclass
class Spelling:
    """One clause as "Did you mean" shows it: as typed, or as its first near spelling a result holds."""

    typed: str
    near: list[tuple[str, list[str]]] = field(default_factory=list)  # (word, its stems), best first


@dataclass
class Plan:
    query: str | None  # the whole tsquery expression, or None when nothing can match
    loose: str | None  # any of the MUST parts, when all of them together find nothing
    positive: str | None  # without the NOT parts: for highlighting
    params: dict = field(default_factory=dict)
    parts: list[list[Option]] = field(default_factory=list)  # top-level parts, ranked and title-covered
    spellings: list[Spelling] = field(default_factory=list)

    @property
    def respelt(self) -> bool:
        return any(s.near for s in self.spellings)

    def correction(self, held: Callable[[list[str]], bool]) -> str | None:
        """The query with each misspelt word as its first near spelling that a result holds
        (``held(stems)``), or None when no word changes. Only the results are asked, never the word
        list, so no word of a page the viewer may not see is ever offered."""
        words, changed = [], False
        for spelling in self.spellings:
            near = next((w for w, stems in spelling.near if not stems or held(stems)), None)
            words.append(near or spelling.typed)
            changed = changed or near is not None
        return " ".join(words) if changed else None


def tsquery_literal(stems: list[str], joiner: str) -> str:
    return joiner.join("'" + s.replace("\\", "\\\\").replace("'", "''") + "'" for s in stems)


class _Params:
    def __init__(self):
        self.values: dict = {}

    def add(self, value) -> str:
        name = f"q{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _plain(params: _Params, words: str, stems: list[str], weight: float = 1.0) -> Option | None:
    if not stems:
        return None
    return Option(f"plainto_tsquery('kb_english', {params.add(words)})", stems, weight)


def plan(connection, parsed: ParsedQuery, config, visibility: set[str], respell: int | None = None) -> Plan:
    """The tsquery for a parsed query as this viewer; unknown words get near spellings of visible words."""
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    two_edits = int(config["SEARCH_FUZZY_TWO_EDITS_LENGTH"])
    fuzzy_weight = float(config["SEARCH_FUZZY_WEIGHT"])
    alternatives = int(config["SEARCH_FUZZY_ALTERNATIVES"])
    tokens = sorted(visibility)
    params = _Params()
    plain_texts = [c.text.strip('"') for c in parsed.clauses if c.kind != PREFIX]
    analysed = {}
    if plain_texts:
        rows = connection.execute(_ANALYSE, {"words": plain_texts, "visibility": tokens}).all()
        analysed = {int(r.ord) - 1: (list(r.stems), bool(r.known), r.phrase) for r in rows}
    else:
        prefer_indexes(connection)
    to_correct: dict[str, int] = {}
    plain_index = 0
    for index, clause in enumerate(parsed.clauses):
        if clause.kind == PREFIX:
            continue
        stems, known, _ = analysed.get(plain_index, ([], True, ""))
        plain_index += 1
        lowered = clause.text.strip('"').lower()
        if (stems and clause.kind != PHRASE and clause.occur != NOT and (index == respell or not known)
                and len(lowered) >= fuzzy_min):
            to_correct[lowered] = 2 if len(lowered) >= two_edits else 1
    near = corrections_of(connection, to_correct, visibility, alternatives)
    clause_options: list[list[Option] | None] = []
    spellings: list[Spelling] = []
    plain_index = 0
    for index, clause in enumerate(parsed.clauses):
        if clause.kind == PREFIX:
            pattern = clause.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stems = connection.execute(_EXPAND, {"visibility": tokens, "pattern": pattern,
                                                 "limit": PREFIX_EXPANSIONS}).scalars().all()
            options = [Option(f"CAST({params.add(tsquery_literal(sorted(stems), ' | '))} AS tsquery)",
                              sorted(stems), any_stem=True)] if stems else []
            clause_options.append(options)
            spellings.append(Spelling(clause.text + "*"))
            continue
        stems, known, phrase = analysed.get(plain_index, ([], True, ""))
        plain_index += 1
        words = clause.text.strip('"')
        spelling = Spelling(("-" if clause.occur == NOT else "") + clause.text)
        if clause.kind == PHRASE and '"' in clause.text and len(stems) > 1:
            options = [_phrase(params, words, stems, phrase)]
        else:
            option = _plain(params, words, stems)
            options = [option] if option is not None else []
        if options and clause.kind != PHRASE and clause.occur != NOT and (index == respell or not known):
            spelling.near = near.get(words.lower(), [])
            if spelling.near and not spelling.near[0][1]:
                options = []  # most likely a misspelt stop word ("hsve" for "have"): it never narrows
            else:
                for rank, (option_word, option_stems) in enumerate(spelling.near):
                    alt = _plain(params, option_word, option_stems, fuzzy_weight * (1.0 - 0.1 * rank))
                    if alt is not None:
                        options.append(alt)
        clause_options.append(options or None)
        spellings.append(spelling)
    return _assemble(parsed, clause_options, params, spellings)


# Between two words of a quoted phrase, up to this many skipped words (stop words, one letter), as
# the Whoosh engine allows.
PHRASE_GAP = 3
PHRASE_FLEXIBLE_WORDS = 4
_LEXEME = re.compile(r"'((?:[^']|'')*)'")


def _phrase(params: _Params, words: str, stems: list[str], phrase: str) -> Option:
    """A quoted phrase in order. Typed without stop words, its words may have a few skipped words
    between them ("replication configured" finds "replication is configured"); typed with them,
    phraseto_tsquery keeps the typed distances."""
    ordered = [m.replace("''", "'") for m in _LEXEME.findall(phrase or "")]
    if 1 < len(ordered) <= PHRASE_FLEXIBLE_WORDS and phrase.count("<->") == len(ordered) - 1 and "&" not in phrase:
        query = tsquery_literal(ordered[:1], "")
        for stem in ordered[1:]:
            word = tsquery_literal([stem], "")
            query = "(" + " | ".join(f"{query} <{gap}> {word}" for gap in range(1, PHRASE_GAP + 1)) + ")"
        return Option(f"CAST({params.add(query)} AS tsquery)", stems, phrase=True)
    return Option(f"phraseto_tsquery('kb_english', {params.add(words)})", stems, phrase=True)


def _either(options: list[Option]) -> str:
    return options[0].sql if len(options) == 1 else "(" + " || ".join(o.sql for o in options) + ")"


def _assemble(parsed: ParsedQuery, clause_options: list, params: _Params, spellings: list[Spelling]) -> Plan:
    grouped = {i for group in parsed.or_groups for i in group}
    parts: list[list[Option]] = []
    for i, (clause, options) in enumerate(zip(parsed.clauses, clause_options)):
        if options and clause.occur == MUST and i not in grouped:
            parts.append(options)
    for group in parsed.or_groups:
        options = [o for i in group for o in (clause_options[i] or [])]
        if options:
            parts.append(options)
    nots = [options for clause, options in zip(parsed.clauses, clause_options) if options and clause.occur == NOT]
    if not parts:
        return Plan(None, None, None, params.values, [], spellings)
    positive = " && ".join(_either(p) for p in parts)
    excluded = "".join(f" && !!{_either(n)}" for n in nots)
    loose = None
    if len(parts) > 1 and not parsed.or_groups:
        loose = "(" + " || ".join(_either(p) for p in parts) + ")" + excluded
    return Plan(f"({positive}){excluded}", loose, f"({positive})", params.values, parts, spellings)


def respellable(parsed: ParsedQuery, config) -> list[int]:
    """Clauses that could be a typo making another real word: plain words long enough to correct."""
    fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
    return [i for i, c in enumerate(parsed.clauses)
            if c.kind not in (PHRASE, PREFIX) and c.occur != NOT and len(c.text) >= fuzzy_min]
