"""The PostgreSQL engine: search documents in the site's own database, shared by every host.

Documents are written in the same transaction as the content they come from (consumer() is None,
so there is no outbox to drain and no lag); matching, the permission filter and facet counts are
SQL over a GIN-indexed tsvector; the best few hundred matches are re-ranked in Python with the
BM25F and title-coverage scoring the Whoosh engine uses (kb.search.ranking).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import make_url

from kb.extensions import db
from kb.search.documents import SearchDoc, plain_excerpt
from kb.search.engine import Outcome, SearchRequest
from kb.search.engines.postgres import scoring, snippets, writing
from kb.search.engines.postgres.models import DOCUMENTS_FORMAT, READ_FORMAT, statement
from kb.search.engines.postgres.planning import (
    Option,
    Plan,
    plan,
    prefer_indexes,
    respellable,
    tsquery_literal,
)
from kb.search.engines.postgres.spelling import corrections
from kb.search.query import clean

CORE_FACETS = ("kind", "category")
# ts_rank's weights are listed D, C, B, A: a first ordering of many matches before the re-ranking.
PRE_RANK_WEIGHTS = "{0.4, 0.35, 0.5, 1.0}"
TERMS_LOCK = 0x6B627365  # the advisory lock of count_terms


# Counting every row took 156 ms at 30k documents (the search prefers indexes, see prefer_indexes),
# once a minute in every process. A large table is estimated instead: the planner's row count (kept by
# ANALYZE and autovacuum) and the average length of a 2% sample of its pages; the ranking needs no more.
STATS_SAMPLE_FROM = 20_000
_STATS = text("""
SELECT CASE WHEN c.reltuples >= :sample_from THEN CAST(c.reltuples AS bigint)
            ELSE (SELECT count(*) FROM search_documents) END,
       coalesce(CASE WHEN c.reltuples >= :sample_from
                     THEN (SELECT avg(body_length) FROM search_documents TABLESAMPLE SYSTEM (2)) END,
                (SELECT avg(body_length) FROM search_documents), 0)
FROM pg_class c WHERE c.oid = CAST('search_documents' AS regclass)
""")


class Counted(NamedTuple):
    total: int
    facets: dict[str, dict[str, int]]
    top: list[tuple[str, int]]  # the best matches by ts_rank (kind, doc_id), when the search is ranked


class PostgresEngine:
    """The shared engine (see kb.search.engine.Engine) for sites on several hosts."""

    name = "postgres"

    def __init__(self, app):
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if url.get_backend_name() != "postgresql":
            raise RuntimeError(
                f"KB_SEARCH_ENGINE=postgres needs the site's database to be PostgreSQL, but KB_DATABASE_URL is "
                f"a {url.get_backend_name()} database; set KB_DATABASE_URL=postgresql+psycopg://… or use "
                f"KB_SEARCH_ENGINE=whoosh.")
        self.app = app
        self.config = app.config
        self._stats_lock = threading.Lock()
        self._totals: tuple[int, float] = (0, 0.0)
        self._stats_time = 0.0

    # --- writing -----------------------------------------------------------------------------

    def apply(self, connection, docs: list[SearchDoc], removed: list[tuple[str, int]]) -> None:
        """Write changes through the content's own connection, inside its transaction."""
        writing.write(connection, docs, removed, self.config)

    @contextmanager
    def batch(self):
        batch = _Batch()
        yield batch
        with db.engine.begin() as connection:
            writing.write(connection, batch.docs, batch.removed, self.config)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Every document rewritten in one transaction (writing.rebuild), then counted afresh."""
        with db.engine.begin() as connection:
            count = writing.rebuild(connection, docs, self.config)
        self.count_terms()
        with db.engine.begin() as connection:  # the planner's statistics, for the new rows
            connection.execute(text("ANALYZE search_documents"))
            connection.execute(text("ANALYZE search_lexemes"))
        self._stats_time = 0.0
        return count

    def count_terms(self) -> int:
        """Count the documents holding each stem afresh (the ranking's document frequencies); a
        second worker counting at the same moment leaves it to the first."""
        with db.engine.begin() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TERMS_LOCK}).scalar():
                return 0
            connection.execute(text("DELETE FROM search_terms"))
            connection.execute(text("INSERT INTO search_terms (lexeme, documents) "
                                    "SELECT word, ndoc FROM ts_stat('SELECT tsv FROM search_documents')"))
            counted = connection.execute(text("SELECT count(*) FROM search_terms")).scalar_one()
        self._stats_time = 0.0
        return counted

    # --- the index as a whole ----------------------------------------------------------------------

    def digests(self) -> dict[str, str]:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT kind, doc_id, digest FROM search_documents")).all()
        return {f"{kind}:{doc_id}": digest for kind, doc_id, digest in rows}

    def count(self) -> int:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM search_documents")).scalar_one()

    def health(self) -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM search_documents LIMIT 1"))
            if not connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
                raise RuntimeError("the pg_trgm extension is missing: run `kb init` (or CREATE EXTENSION pg_trgm)")

    def rebuild_reason(self) -> str | None:
        if self.count() == 0:
            return "there is no index yet"
        with db.engine.connect() as connection:
            if connection.execute(text(READ_FORMAT)).scalar() != DOCUMENTS_FORMAT:
                return "its documents were written in an older format"
        return None

    def expire(self) -> None:
        """Nothing to expire: every search reads the table."""

    def consumer(self) -> None:
        return None

    # --- searching ---------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> Outcome:
        with _confined() as connection:
            return self._search(connection, request)

    def _search(self, connection, request: SearchRequest) -> Outcome:
        where, params = _filters(request)
        parsed = request.query
        if parsed.is_empty():
            if not (request.filters or request.kinds):
                return Outcome([], 0, {name: {} for name in CORE_FACETS}, None)
            prefer_indexes(connection)
            counted = self._count(connection, where, params, None, {}, 0)
            hits, _ = self._page(connection, where, params, None, {}, request, counted, [], None, False)
            return Outcome(hits, counted.total, counted.facets, None)
        ranked = 0 if request.sort == "newest" else max(request.page * request.per_page,
                                                           int(self.config["SEARCH_POSTGRES_RERANK"]))
        built = plan(connection, parsed, self.config, request.visibility)
        counted = self._count(connection, where, params, built.query, built.params, ranked)
        if (built.query is not None and counted.total < int(self.config["SEARCH_RESPELL_BELOW"])
                and len(parsed.positive) > 1):
            built, counted = self._respelled(connection, request, where, params, built, counted, ranked)
        query, parts, loose = built.query, built.parts, False
        if counted.total == 0 and built.loose is not None:
            found = self._count(connection, where, params, built.loose, built.params, ranked)
            if found.total:
                query, parts, loose, counted = built.loose, [[o for part in built.parts for o in part]], True, found
        hits, held = self._page(connection, where, params, query, built.params, request, counted, parts,
                                built.positive, built.respelt)
        return Outcome(hits, counted.total, counted.facets, built.correction(held), loose)

    def _respelled(self, connection, request, where, params, built: Plan, counted: Counted, ranked: int):
        """As the Whoosh engine: when the words together find (almost) nothing, try near spellings
        of each in turn and keep the one that finds the most."""
        best = (built, counted)
        for index in respellable(request.query, self.config):
            candidate = plan(connection, request.query, self.config, request.visibility, respell=index)
            if candidate.query is None or not candidate.respelt:
                continue
            found = self._count(connection, where, params, candidate.query, candidate.params, ranked)
            if found.total > best[1].total:
                best = (candidate, found)
        return best

    def _count(self, connection, where: str, params: dict, query: str | None, query_params: dict,
               ranked: int) -> Counted:
        """The matches, their facet counts (commonest value first) and, when ranked, the best
        `ranked` of them by ts_rank, for the re-ranking: one statement, one pass over the matches.
        The matches are counted per facet set (the kind, category and facet terms documents share,
        as one number) and each set's values read once from a document that has it: hashing the
        three values of every match, once per facet, took 20 of 46 ms for 14,000 matches at 30k
        documents, this takes 9."""
        # Divided by the length's logarithm here rather than by ts_rank (normalization 1), which
        # walks every position of the tsvector to count them: 27-29 ms down to 25 for 14,000 matches.
        rank = (f"ts_rank('{PRE_RANK_WEIGHTS}', d.tsv, ({query}), 0) / ln(greatest(2, d.body_length + 1))"
                if query and ranked else "0")
        top = ("UNION ALL (SELECT 'top', kind, doc_id, NULL, NULL FROM m ORDER BY r DESC, kind, doc_id LIMIT :ranked)"
               if query and ranked else "")
        rows = connection.execute(statement(f"""
            WITH m AS MATERIALIZED (SELECT d.kind, d.doc_id, d.facet_set, {rank} AS r
                                    FROM {_matching(where, query)})
            SELECT 'set', s.kind, g.n, s.category, s.facet_terms
            FROM (SELECT facet_set, count(*) AS n FROM m GROUP BY facet_set) AS g
            CROSS JOIN LATERAL (SELECT x.kind, x.category, x.facet_terms FROM search_documents x
                                WHERE x.facet_set = g.facet_set LIMIT 1) AS s
            {top}
        """), {**params, **query_params, "ranked": ranked}).all()
        counted: dict[str, Counter] = {name: Counter() for name in CORE_FACETS}
        total = 0
        best: list[tuple[str, int]] = []
        for row, kind, n, category, facet_terms in rows:
            if row == "top":
                best.append((kind, int(n)))
                continue
            total += n
            counted["kind"][kind] += n
            if category:
                counted["category"][category] += n
            for term in facet_terms:
                facet, _, value = term.partition(":")
                counted.setdefault(facet, Counter())[value] += n
        facets = {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in counted.items()}
        return Counted(total, facets, best)

    def _page(self, connection, where, params, query, query_params, request: SearchRequest, counted: Counted,
              parts: list[list[Option]], positive: str | None, respelt: bool):
        """The hits of the requested page, and whether the documents read for it (those re-ranked,
        or the page itself when sorted by date) hold given stems: what "Did you mean" may offer."""
        start = (request.page - 1) * request.per_page
        if not counted.total or start >= counted.total:
            return [], scoring.holder(scoring.NOTHING_READ)
        stems = sorted({s for part in parts for o in part for s in o.stems})
        if query is None or request.sort == "newest":
            rows = connection.execute(statement(f"""
                SELECT d.kind, d.doc_id FROM {_matching(where, query)}
                ORDER BY d.updated DESC, d.doc_id DESC OFFSET :offset LIMIT :limit
            """), {**params, **query_params, "offset": start, "limit": request.per_page}).all()
            scored = [((kind, doc_id), 0.0) for kind, doc_id in rows]
            read = self._lexemes(connection, [key for key, _ in scored], stems) if respelt else scoring.NOTHING_READ
        else:
            read = self._lexemes(connection, counted.top, stems)
            documents, average = self._totals_now(connection)
            scored = scoring.rerank(read, parts, stems, documents, average, start + request.per_page)[start:]
        chars = int(self.config["SEARCH_SNIPPET_CHARS"])
        return snippets.hits(connection, scored, positive, query_params, stems, chars), scoring.holder(read)

    def _lexemes(self, connection, keys: list[tuple[str, int]], stems: list[str]) -> scoring.Read:
        """Where each of these documents holds the query's stems, for the re-ranking: its tsvector cut
        down to them in C (ts_delete of every other lexeme: all of them but the stems, by ts_delete
        once more) and read as text, one row a document. Unnesting every lexeme of 100 documents to
        keep a few, one row per stem with its array of weights, took 3.6-4.4 ms against 1.5-2.0."""
        return scoring.read(connection.execute(statement("""
            SELECT d.kind, d.doc_id, d.body_length,
                   CAST(ts_delete(d.tsv, tsvector_to_array(ts_delete(d.tsv, CAST(:stems AS text[])))) AS text),
                   CAST((SELECT json_object_agg(t.lexeme, t.documents) FROM search_terms t
                         WHERE t.lexeme = ANY(CAST(:stems AS text[]))) AS text) AS frequencies
            FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS int[])) AS k(kind, doc_id)
            JOIN search_documents d ON d.kind = k.kind AND d.doc_id = k.doc_id
        """), {"stems": stems, "kinds": [kind for kind, _ in keys], "ids": [doc_id for _, doc_id in keys]}))

    def _totals_now(self, connection) -> tuple[int, float]:
        self._refresh_stats(connection)
        return self._totals

    def _refresh_stats(self, connection) -> None:
        """The document count and average length change slowly: read them at most every
        SEARCH_POSTGRES_STATS_SECONDS."""
        now = time.monotonic()
        if now - self._stats_time < float(self.config["SEARCH_POSTGRES_STATS_SECONDS"]):
            return
        documents, average = connection.execute(_STATS, {"sample_from": STATS_SAMPLE_FROM}).one()
        with self._stats_lock:
            self._totals = (int(documents), float(average))
            self._stats_time = now

    # --- type-ahead --------------------------------------------------------------------------------

    def suggest(self, prefix: str, visibility: set[str], limit: int, kinds: list[str] | None) -> list[dict]:
        """Titles, and pages whose opening words, match what was typed: every word but the last
        complete, the last a prefix; near spellings when too few match."""
        config = self.config
        typed = clean(prefix, int(config["SEARCH_QUERY_MAX_LENGTH"])).lower()
        words = re.findall(r"\w+", typed)[: int(config["SEARCH_QUERY_MAX_TERMS"])]
        if len(typed) < int(config["SEARCH_SUGGEST_MIN_CHARS"]) or not words:
            return []
        complete = len(words) if prefix.endswith(" ") else len(words) - 1
        with _confined() as connection:
            return self._suggest(connection, words, complete, visibility, limit, kinds)

    def _suggest(self, connection, words: list[str], complete: int, visibility: set[str], limit: int,
                 kinds: list[str] | None) -> list[dict]:
        config = self.config
        fuzzy_min = int(config["SEARCH_FUZZY_MIN_LENGTH"])
        prefer_indexes(connection)
        out: list[dict] = []
        seen: set[tuple[str, int]] = set()
        for fuzzy in (False, True):
            parts = []
            for i, word in enumerate(words):
                options = [tsquery_literal([word], "") + (":*" if i >= complete else "")]
                if fuzzy and len(word) >= fuzzy_min:
                    options += [tsquery_literal([w], "") for w, _ in corrections(connection, word, 1, visibility, 3)]
                parts.append("(" + " | ".join(options) + ")")
            if fuzzy and len(parts) == len(words) and all(" | " not in p for p in parts):
                break  # no near spellings: the same query again would find the same
            found = self._suggestions(connection, " & ".join(parts), visibility, kinds, limit - len(out), seen)
            for row in found:
                seen.add((row["kind"], row["doc_id"]))
                out.append({"title": row["title"], "url": row["url"], "kind": row["kind"],
                            "excerpt": plain_excerpt(row["summary"] or row["excerpt"],
                                                     int(config["SEARCH_SUGGEST_EXCERPT_CHARS"]))})
            if len(out) >= limit:
                break
        return out[:limit]

    def _suggestions(self, connection, query: str, visibility: set[str], kinds, limit: int, seen) -> list:
        kind_filter = " AND d.kind = ANY(CAST(:kinds AS text[]))" if kinds else ""
        rows = connection.execute(statement(f"""
            SELECT d.kind, d.doc_id, d.title, d.url, d.summary, left(d.excerpt, 400) AS excerpt
            FROM search_documents d, CAST(:q AS tsquery) AS q
            WHERE d.visibility = ANY(CAST(:visibility AS text[])){kind_filter} AND d.suggest_tsv @@ q
            ORDER BY ts_rank('{{0, 0, 0.3, 1.0}}', d.suggest_tsv, q) DESC, d.updated DESC LIMIT :limit
        """), {"q": query, "visibility": sorted(visibility), "kinds": list(kinds or []),
               "limit": limit + len(seen)}).mappings().all()
        return [r for r in rows if (r["kind"], r["doc_id"]) not in seen][:limit]


class _Batch:
    def __init__(self):
        self.docs: list[SearchDoc] = []
        self.removed: list[tuple[str, int]] = []

    def put(self, doc: SearchDoc) -> None:
        self.docs.append(doc)

    def remove(self, kind: str, doc_id: int) -> None:
        self.removed.append((kind, int(doc_id)))


@contextmanager
def _confined():
    """The session's connection inside a savepoint that is rolled back when the search ends: the
    planner settings a search makes (planning.PLANNER_SETTINGS, pg_trgm's threshold) are SET LOCAL,
    and without it they would hold for whatever the request does next in the same transaction."""
    savepoint = db.session.begin_nested()
    try:
        yield db.session.connection()
    finally:
        savepoint.rollback()


def _matching(where: str, query: str | None) -> str:
    """The FROM and WHERE of the documents that match the query, as d."""
    match = f" AND d.tsv @@ ({query})" if query else ""
    return f"search_documents d WHERE {where}{match}"


def _filters(request: SearchRequest) -> tuple[str, dict]:
    """The permission filter and the facet filters as SQL over search_documents d."""
    where = ["d.visibility = ANY(CAST(:visibility AS text[]))"]
    params: dict = {"visibility": sorted(request.visibility)}
    if request.kinds:
        where.append("d.kind = ANY(CAST(:kinds_filter AS text[]))")
        params["kinds_filter"] = list(request.kinds)
    terms = []
    for name, value in request.filters.items():
        if not value:
            continue
        if name in CORE_FACETS:
            where.append(f"d.{name} = :filter_{name}")
            params[f"filter_{name}"] = value
        else:
            terms.append(f"{name}:{value}")
    if terms:
        where.append("d.facet_terms @> CAST(:facet_filter AS text[])")
        params["facet_filter"] = terms
    return " AND ".join(where), params
