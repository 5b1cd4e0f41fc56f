"""Tables owned by search: the indexing outbox, each index's cursor on it, and the query analytics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.extensions import db
from kb.types import utcnow


class SearchOutbox(db.Model):
    """One pending index change, written in the same transaction as the content change."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class SearchCursor(db.Model):
    """How far one index (one host's index folder) has applied the outbox."""

    __tablename__ = "search_cursors"

    index_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # When the index last applied rows or was rebuilt; indexes silent for longer than the
    # retention period no longer hold rows back.
    seen: Mapped[datetime] = mapped_column(default=utcnow)


class SearchQuery(db.Model):
    """A search someone ran: the normalised query and how many results it found."""

    __tablename__ = "search_queries"
    __table_args__ = (Index("ix_search_queries_created", "created"), Index("ix_search_queries_query", "query"))

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class SearchClick(db.Model):
    """A result opened from a search results page."""

    __tablename__ = "search_clicks"
    __table_args__ = (Index("ix_search_clicks_query_id", "query_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int | None] = mapped_column(ForeignKey("search_queries.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(default=utcnow)


# The PostgreSQL engine's tables belong to every site's schema (empty unless that engine is chosen).
from kb.search.engines.postgres.models import SearchDocument, SearchLexeme, SearchTerm

__all__ = ["SearchClick", "SearchCursor", "SearchDocument", "SearchLexeme", "SearchOutbox", "SearchQuery",
           "SearchTerm"]
