"""The PostgreSQL engine's tables: one row per search document, and the words seen per visibility.

On other databases the tables exist with plain column types and stay empty (the Whoosh engine
keeps its index on disk), so one schema serves every site.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import DDL, JSON, BigInteger, Index, Integer, String, Text, event, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from kb.extensions import db
from kb.types import UTCDateTime

# A search writes its statements out per query shape; text() reads each one for its bound names
# (a regular expression over the whole statement), so each shape is read once per process.
statement = lru_cache(maxsize=1024)(text)

TSV = Text().with_variant(TSVECTOR(), "postgresql")
TERMS = JSON().with_variant(ARRAY(Text), "postgresql")
FACETS = JSON().with_variant(JSONB(), "postgresql")


class SearchDocument(db.Model):
    """A document as the PostgreSQL engine searches it, written in the content's own transaction.

    ``tsv`` weighs title A, headings B, body C (its opening counted twice, as in the Whoosh engine)
    and tags D; ``suggest_tsv`` holds only the title (A) and the body's opening (B) for type-ahead.
    ``facet_terms`` holds every facet value as "name:value" so any facet a feature fills in is
    filtered on and counted in SQL.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_documents_suggest_tsv", "suggest_tsv", postgresql_using="gin"),
        Index("ix_search_documents_facet_terms", "facet_terms", postgresql_using="gin"),
        Index("ix_search_documents_visibility_updated", "visibility", "updated"),
        Index("ix_search_documents_facet_set", "facet_set"),
    )

    # What every match is read for comes first: PostgreSQL walks a row's columns in order to reach
    # one, and reading the facet set from behind the tsvector took 15 ms, not 10, for 14,000 matches.
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    doc_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visibility: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(120), default="")
    # One number per distinct (kind, category, facet terms): the facet counts group the matches by
    # it, not by the three values themselves (writing.facet_set).
    facet_set: Mapped[int] = mapped_column(BigInteger, default=0)
    body_length: Mapped[int] = mapped_column(Integer, default=0)
    facet_terms: Mapped[list] = mapped_column(TERMS, default=list)
    tsv = mapped_column(TSV)
    title: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    category_name: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    # The first SEARCH_SNIPPET_SOURCE_CHARS characters of the body: snippets and the words offered
    # as corrections come from it.
    excerpt: Mapped[str] = mapped_column(Text, default="")
    facets: Mapped[dict] = mapped_column(FACETS, default=dict)
    badges: Mapped[list] = mapped_column(JSON, default=list)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    digest: Mapped[str] = mapped_column(String(40))
    suggest_tsv = mapped_column(TSV)


class SearchLexeme(db.Model):
    """A word (as typed, lower case) found in a document of this visibility: corrections and
    "Did you mean" offer only words of the viewer's visibilities, found with a trigram index."""

    __tablename__ = "search_lexemes"
    __table_args__ = (
        Index("ix_search_lexemes_word_trgm", "word", postgresql_using="gin",
              postgresql_ops={"word": "gin_trgm_ops"}),
    )

    word: Mapped[str] = mapped_column(String(60), primary_key=True)
    visibility: Mapped[str] = mapped_column(String(80), primary_key=True)


class SearchTerm(db.Model):
    """How many documents hold each stem (the ranking's document frequencies), counted from the
    tsvectors by a rebuild and again every SEARCH_POSTGRES_TERMS_INTERVAL by the worker: a
    statistic, so a little drift between counts costs nothing, and no write waits on it."""

    __tablename__ = "search_terms"

    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)


# The text search configuration: PostgreSQL's English stemmer without its stop-word list, so every
# typed word counts ("before", "should" and "through" tell pages apart as well as any other word).
TEXT_SEARCH_CONFIG = "kb_english"
CREATE_TEXT_SEARCH_CONFIG = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'kb_english_stem') THEN
    CREATE TEXT SEARCH DICTIONARY kb_english_stem (TEMPLATE = snowball, Language = english);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'kb_english') THEN
    CREATE TEXT SEARCH CONFIGURATION kb_english (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION kb_english ALTER MAPPING
      FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH kb_english_stem;
  END IF;
END $$
"""

# Every search reads, for each match, its tsvector (ranking), kind, visibility, category and facet
# terms (the counts). Rows with a tsvector are wider than PostgreSQL's 2 kB TOAST target, and left to
# itself it moved every other column it could out of line, category and title included: one TOAST
# lookup per match and per column. At 30k documents, counting and pre-ranking 14,000 matches took
# 79 ms that way and 57 ms with these columns held in the row (tsvector and facet terms MAIN, the
# short ones PLAIN); the excerpt, summary and type-ahead vector go out of line instead, and only the
# hits shown read them.
KEEP_IN_ROW = """
ALTER TABLE search_documents ALTER COLUMN tsv SET STORAGE MAIN, ALTER COLUMN facet_terms SET STORAGE MAIN,
  ALTER COLUMN kind SET STORAGE PLAIN, ALTER COLUMN visibility SET STORAGE PLAIN,
  ALTER COLUMN category SET STORAGE PLAIN
"""

# How rows are written (kb.search.engines.postgres.writing), kept as the table's comment: rows
# written another way are rewritten by the next rebuild, which `kb init` runs when the two differ.
DOCUMENTS_FORMAT = "kb search documents, format 3: words as the query parser reads them, facet sets"
MARK_FORMAT = f"COMMENT ON TABLE search_documents IS '{DOCUMENTS_FORMAT}'"
READ_FORMAT = "SELECT obj_description(CAST('search_documents' AS regclass), 'pg_class')"

# db.create_all() (the tests, a first start without migrations) needs pg_trgm before the trigram
# index and the configuration before any row; the migration creates both, with a clear message
# when the server lacks pg_trgm.
event.listen(SearchLexeme.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "before_create",
             DDL(CREATE_TEXT_SEARCH_CONFIG).execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "after_create", DDL(KEEP_IN_ROW).execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "after_create", DDL(MARK_FORMAT).execute_if(dialect="postgresql"))
