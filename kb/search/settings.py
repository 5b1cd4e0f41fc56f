"""Search's configuration defaults; a KB_<KEY> environment variable or the instance config overrides each."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Which engine holds the index: "whoosh" (an index folder per host, the default) or "postgres"
    # (the search_documents table of the site's PostgreSQL database, shared by every host).
    "SEARCH_ENGINE": "whoosh",
    # PostgreSQL engine: how many of the best matches by ts_rank are re-ranked with the BM25F and
    # title-coverage scoring both engines share (more: closer to a full ranking, slower queries).
    "SEARCH_POSTGRES_RERANK": 100,
    # PostgreSQL engine: how often (seconds) a process re-reads the document count and average
    # length the ranking uses.
    "SEARCH_POSTGRES_STATS_SECONDS": 60.0,
    # PostgreSQL engine: how often (seconds) the worker recounts how many documents hold each word
    # (the ranking's document frequencies; a rebuild recounts too).
    "SEARCH_POSTGRES_TERMS_INTERVAL": 3600.0,
    # PostgreSQL engine: how much of each body is indexed (characters); PostgreSQL refuses a
    # tsvector above 1 MB.
    "SEARCH_POSTGRES_BODY_CHARS": 300_000,
    # The Whoosh engine reads its codec's posting blocks directly when the installed Whoosh is a
    # version that was checked (kb/search/engines/whoosh/internals.py); false uses only its public
    # API (same results, slower queries and rebuilds).
    "SEARCH_WHOOSH_FAST_PATHS": True,
    # Queries: anything longer is cut to this many characters before parsing.
    "SEARCH_QUERY_MAX_LENGTH": 500,
    # At most this many words (terms, phrases, prefixes) of a query are used.
    "SEARCH_QUERY_MAX_TERMS": 24,
    "SEARCH_PER_PAGE": 10,
    "SEARCH_PER_PAGE_MAX": 50,
    # Pages past this are refused with 400 rather than computed.
    "SEARCH_MAX_PAGE": 100,
    # A prefix query (word*) needs at least this many letters before the star.
    "SEARCH_PREFIX_MIN_LENGTH": 2,
    # Words at least this long that the index does not know are matched fuzzily (one edit;
    # two edits from SEARCH_FUZZY_TWO_EDITS_LENGTH letters on).
    "SEARCH_FUZZY_MIN_LENGTH": 4,
    "SEARCH_FUZZY_TWO_EDITS_LENGTH": 9,
    # How much a corrected (fuzzy) word counts compared with a word typed correctly.
    "SEARCH_FUZZY_WEIGHT": 0.7,
    # How many near spellings of an unknown word are searched for (the commonest, closest first).
    "SEARCH_FUZZY_ALTERNATIVES": 5,
    # A query of several words that finds fewer documents than this also tries near spellings of
    # words the index knows ("stare" typed for "state"), and offers the correction if it finds more.
    # 1: only when it finds nothing (each extra try costs a correction scan per word); 0: never.
    "SEARCH_RESPELL_BELOW": 1,
    "SEARCH_SUGGEST_LIMIT": 8,
    "SEARCH_SUGGEST_MIN_CHARS": 2,
    # Type-ahead matches words anywhere in a title and in the first this many words of the body
    # (the Whoosh engine reads it when indexing: `kb reindex` after changing it), and each
    # suggestion carries a plain-text excerpt of at most this many characters.
    "SEARCH_SUGGEST_OPENING_WORDS": 30,
    "SEARCH_SUGGEST_EXCERPT_CHARS": 120,
    # How much of each body the index keeps as text, for snippets and for quoted phrases (a phrase
    # further into a longer page is not found), and the snippet length.
    "SEARCH_SNIPPET_SOURCE_CHARS": 20000,
    "SEARCH_SNIPPET_CHARS": 240,
    # Indexing: outbox rows drained per writer session, and the writer's memory budget for postings
    # (estimated MB). `kb reindex` writes a new segment each time its postings near the budget, so
    # they are sorted in memory instead of spilled to temporary files. At 256 a segment holds about
    # 5,000 documents and a 30,000-document rebuild peaks near 400 MB; less memory makes more
    # segments, and every segment costs each query a little (30k documents: 6 segments at 256,
    # 11 at 128, query p95 about 10% apart).
    "SEARCH_DRAIN_BATCH": 500,
    "SEARCH_WRITER_MEMORY_MB": 256,
    # A request looks for outbox rows its host's index has not applied (changes made through another
    # host, or left by a busy writer) at most this often (seconds); 0 turns it off. One indexed
    # query per look, so another host's change is searchable here within about this long.
    "SEARCH_DRAIN_INTERVAL": 2.0,
    # Each index (one per host) keeps a cursor on the outbox. A row is deleted once every index
    # that applied rows within SEARCH_OUTBOX_RETENTION_HOURS has passed it, and in any case after
    # that long; an index away longer is rebuilt by `kb init` (rows it needed may be gone).
    "SEARCH_OUTBOX_RETENTION_HOURS": 168.0,
    # A missing outbox id (a transaction that took an id but has not committed, or rolled back) holds
    # a cursor back until the row after it is this old (seconds); rows after it are applied again
    # meanwhile. A change whose transaction stays open longer than this between flush and commit
    # reaches other hosts' indexes only with `kb reindex`.
    "SEARCH_OUTBOX_GAP_SECONDS": 10.0,
    # Posting entries each worker keeps in memory for words queried again (roughly 110 bytes each,
    # so 1,000,000 is at most about 110 MB); fewer saves memory, more saves time on large indexes.
    "SEARCH_TERM_CACHE_POSTINGS": 1_000_000,
    # A worker checks for a newer index at most this often (seconds) before a search.
    "SEARCH_REFRESH_INTERVAL": 0.2,
    # How long `kb reindex` waits for a running drain to let go of the index writer (seconds).
    "SEARCH_REINDEX_LOCK_TIMEOUT": 60.0,
    # Analytics: whether searches are recorded, and the longest query text kept.
    "SEARCH_ANALYTICS_ENABLED": True,
    "SEARCH_ANALYTICS_QUERY_MAX_LENGTH": 200,
    "SEARCH_ANALYTICS_ROWS": 25,
    # Searches are counted in batches: written this many seconds after the first (0: each at once),
    # or at this many searches, whichever comes first (see kb.search.analytics.record_query).
    "SEARCH_ANALYTICS_FLUSH_SECONDS": 1.0,
    "SEARCH_ANALYTICS_BATCH": 200,
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
