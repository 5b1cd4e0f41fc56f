"""Writing search documents: one row each in search_documents, the words in search_lexemes.

Rows are written through whatever connection the caller holds: the content's own transaction for
changes (no outbox, no lag), a connection of its own for a rebuild.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC

from sqlalchemy import text

from kb.search.documents import WORD, SearchDoc, doc_digest
from kb.search.engines.postgres.models import MARK_FORMAT
from kb.search.ranking import LEAD_WORDS

MAX_WORD = 60

_COLUMNS = ("kind, doc_id, title, url, visibility, category, category_name, summary, tags, excerpt, facets, "
            "facet_terms, facet_set, badges, body_length, updated, digest, tsv, suggest_tsv")

UPSERT = text(f"""
INSERT INTO search_documents ({_COLUMNS})
VALUES (:kind, :doc_id, :title, :url, :visibility, :category, :category_name, :summary, :tags, :excerpt,
        CAST(:facets AS jsonb), CAST(:facet_terms AS text[]), :facet_set, CAST(:badges AS json), :body_length,
        :updated, :digest,
        setweight(to_tsvector('kb_english', :title_words), 'A') || setweight(to_tsvector('kb_english', :headings), 'B')
        || setweight(to_tsvector('kb_english', :body), 'C') || setweight(to_tsvector('kb_english', :tag_text), 'D'),
        setweight(to_tsvector('simple', :title_words), 'A') || setweight(to_tsvector('simple', :opening), 'B'))
ON CONFLICT (kind, doc_id) DO UPDATE SET
  title = EXCLUDED.title, url = EXCLUDED.url, visibility = EXCLUDED.visibility, category = EXCLUDED.category,
  category_name = EXCLUDED.category_name, summary = EXCLUDED.summary, tags = EXCLUDED.tags,
  excerpt = EXCLUDED.excerpt, facets = EXCLUDED.facets, facet_terms = EXCLUDED.facet_terms,
  facet_set = EXCLUDED.facet_set,
  badges = EXCLUDED.badges, body_length = EXCLUDED.body_length, updated = EXCLUDED.updated,
  digest = EXCLUDED.digest, tsv = EXCLUDED.tsv, suggest_tsv = EXCLUDED.suggest_tsv
""")

DELETE = text("DELETE FROM search_documents WHERE kind = :kind AND doc_id = :doc_id")

# New (word, visibility) pairs only; existing ones are not touched, so writers never wait on each
# other over common words. Pairs of removed documents stay until the next rebuild: corrections are
# checked against documents the viewer may see before they are offered (spelling.py).
ADD_WORDS = text("""
INSERT INTO search_lexemes (word, visibility)
SELECT w, v FROM unnest(CAST(:words AS text[]), CAST(:visibilities AS text[])) AS t(w, v)
ORDER BY 1, 2
ON CONFLICT DO NOTHING
""")


def words_of(doc: SearchDoc) -> set[str]:
    """Every distinct lower-case word of the document's title, headings, tags and body."""
    found = WORD.findall("\n".join((doc.title or "", "\n".join(doc.headings or []), " ".join(doc.tags or []),
                                    doc.body or "")).lower())
    return {w for w in found if len(w) <= MAX_WORD}


def searchable(text: str) -> str:
    """The text as the words a query is read into (kb.search.query), one space between them: left to
    itself, PostgreSQL's parser reads "HS-5124" as "hs" and the signed number "-5124", and "v8.0-beta"
    as one file name, so the typed words "HS-5124" ("hs", "5124") would never find the page."""
    return " ".join(WORD.findall(text))


def facet_set(kind: str, category: str, facet_terms: list[str]) -> int:
    """The number that stands for these three values when matches are counted by them: 64 bits of
    a hash, so two different sets share one by chance about once in 10**19 pairs."""
    key = "\x1f".join((kind, category, *facet_terms)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)


def row(doc: SearchDoc, excerpt_chars: int, body_chars: int, opening_words: int) -> dict:
    """The parameters of UPSERT for one document."""
    body = (doc.body or "")[:body_chars]
    body_words = WORD.findall(body)
    title = searchable(doc.title or "")
    facets = {name: [v.strip() for v in values if v and v.strip()] for name, values in (doc.facets or {}).items()}
    facets = {name: values for name, values in facets.items() if values}
    tags = [t.strip().lower() for t in doc.tags or [] if t.strip()]
    headings = "\n".join(searchable(h) for h in doc.headings or [])
    facet_terms = [f"{name}:{v}" for name, values in facets.items() for v in values]
    return {
        "kind": doc.kind, "doc_id": int(doc.id), "title": doc.title or "", "url": doc.url or "",
        "visibility": doc.visibility, "category": doc.category or "", "category_name": doc.category_name or "",
        "summary": doc.summary or "", "tags": ",".join(tags), "excerpt": body[:excerpt_chars],
        "facets": json.dumps(facets), "facet_terms": facet_terms,
        "facet_set": facet_set(doc.kind, doc.category or "", facet_terms),
        "badges": json.dumps(list(doc.badges or [])),
        "title_words": title,
        "body_length": len(body_words) + len(WORD.findall(title)) + len(WORD.findall(headings)),
        "updated": doc.updated if doc.updated is None or doc.updated.tzinfo else doc.updated.replace(tzinfo=UTC), "digest": doc_digest(doc), "headings": headings,
        # The opening twice, as the Whoosh engine indexes it (kb.search.ranking.LEAD_WORDS).
        "body": " ".join(body_words[:LEAD_WORDS]) + "\n" + " ".join(body_words),
        "tag_text": searchable(" ".join(tags)), "opening": " ".join(body_words[:opening_words]),
    }


def add_words(connection, pairs: Iterable[tuple[str, str]], chunk: int = 20_000) -> None:
    ordered = sorted(set(pairs))
    for start in range(0, len(ordered), chunk):
        part = ordered[start:start + chunk]
        connection.execute(ADD_WORDS, {"words": [w for w, _ in part], "visibilities": [v for _, v in part]})


def write(connection, docs: list[SearchDoc], removed: list[tuple[str, int]], settings: dict) -> None:
    """Apply changed and removed documents through the given connection (in its transaction)."""
    if removed:
        connection.execute(DELETE, [{"kind": kind, "doc_id": int(doc_id)} for kind, doc_id in removed])
    if docs:
        # Sorted, so two transactions writing the same documents take their row locks in one order.
        ordered = sorted(docs, key=lambda d: (d.kind, d.id))
        connection.execute(UPSERT, [row(d, *settings_tuple(settings)) for d in ordered])
        add_words(connection, ((w, d.visibility) for d in ordered for w in words_of(d)))


def settings_tuple(settings: dict) -> tuple[int, int, int]:
    return (int(settings["SEARCH_SNIPPET_SOURCE_CHARS"]), int(settings["SEARCH_POSTGRES_BODY_CHARS"]),
            int(settings["SEARCH_SUGGEST_OPENING_WORDS"]))


def rebuild(connection, docs: Iterable[SearchDoc], settings: dict) -> int:
    """Write every document through the rebuild's connection (one transaction: readers keep the old
    rows until it commits). Rows are replaced, not emptied first, so a writer waits only for a row
    the rebuild already wrote (then applies its own, newer version); rows that were indexed before
    and are gone now are deleted at the end, and documents written meanwhile by others are kept."""
    chunk = int(settings["SEARCH_DRAIN_BATCH"])
    row_settings = settings_tuple(settings)
    count = 0
    words: set[tuple[str, str]] = set()
    connection.execute(text("CREATE TEMP TABLE kb_rebuild_before ON COMMIT DROP AS "
                            "SELECT kind, doc_id FROM search_documents"))
    connection.execute(text("CREATE TEMP TABLE kb_rebuild_done (kind text, doc_id int) ON COMMIT DROP"))
    pending: list[SearchDoc] = []

    def flush() -> None:
        connection.execute(UPSERT, [row(d, *row_settings) for d in pending])
        connection.execute(text("INSERT INTO kb_rebuild_done SELECT * FROM "
                                "unnest(CAST(:kinds AS text[]), CAST(:ids AS int[]))"),
                           {"kinds": [d.kind for d in pending], "ids": [int(d.id) for d in pending]})
        pending.clear()

    for doc in docs:
        pending.append(doc)
        words.update((w, doc.visibility) for w in words_of(doc))
        count += 1
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    connection.execute(text("""
        DELETE FROM search_documents d USING kb_rebuild_before b
        WHERE d.kind = b.kind AND d.doc_id = b.doc_id
          AND NOT EXISTS (SELECT 1 FROM kb_rebuild_done r WHERE r.kind = d.kind AND r.doc_id = d.doc_id)
    """))
    connection.execute(text("CREATE TEMP TABLE kb_rebuild_words (word text, visibility text) ON COMMIT DROP"))
    ordered = sorted(words)
    for start in range(0, len(ordered), 20_000):
        part = ordered[start:start + 20_000]
        connection.execute(text("INSERT INTO kb_rebuild_words SELECT * FROM "
                                "unnest(CAST(:words AS text[]), CAST(:visibilities AS text[]))"),
                           {"words": [w for w, _ in part], "visibilities": [v for _, v in part]})
    connection.execute(text("""
        DELETE FROM search_lexemes l WHERE NOT EXISTS
          (SELECT 1 FROM kb_rebuild_words w WHERE w.word = l.word AND w.visibility = l.visibility)
    """))
    connection.execute(text("INSERT INTO search_lexemes (word, visibility) SELECT word, visibility "
                            "FROM kb_rebuild_words ORDER BY 1, 2 ON CONFLICT DO NOTHING"))
    connection.execute(text(MARK_FORMAT))
    return count
