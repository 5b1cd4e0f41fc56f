"""Knowledge-base tables: categories, articles (with their tags), revisions and reader feedback."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.accounts.models import User, str_enum
from kb.extensions import db
from kb.types import utcnow


class ArticleType(str, enum.Enum):
    HOW_TO = "how-to"
    TROUBLESHOOTING = "troubleshooting"
    BEST_PRACTICE = "best-practice"
    REFERENCE = "reference"

    @property
    def label(self) -> str:
        return {"how-to": "How-to", "troubleshooting": "Troubleshooting", "best-practice": "Best practice",
                "reference": "Reference"}[self.value]


class ArticleStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Category(db.Model):
    __tablename__ = "article_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class ArticleTag(db.Model):
    """One tag of one article: a row per tag lets ``?tag=x`` filter with an index on any database."""

    __tablename__ = "article_tags"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)

    __table_args__ = (Index("ix_article_tags_tag", "tag"),)


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Rendered once on save by kb.markup.render_article and stored sanitized.
    html: Mapped[str] = mapped_column(Text, default="")
    toc_html: Mapped[str] = mapped_column(Text, default="")
    plain_text: Mapped[str] = mapped_column(Text, default="")
    headings: Mapped[list] = mapped_column(JSON, default=list)
    render_version: Mapped[int] = mapped_column(Integer, default=0)  # kb.markup.RENDER_VERSION used
    type: Mapped[ArticleType] = mapped_column(str_enum(ArticleType), default=ArticleType.HOW_TO)
    status: Mapped[ArticleStatus] = mapped_column(str_enum(ArticleStatus), default=ArticleStatus.DRAFT, index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("article_categories.id"), index=True)
    versions: Mapped[list] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    published_at: Mapped[datetime | None]
    # Freshness: who last reviewed it, when, and for which product version.
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_version: Mapped[str | None] = mapped_column(String(20))
    # Counters kept in step with Feedback rows so lists sort without aggregating.
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    # Where it came from: a forum thread, or a content/ file (for import conflict detection).
    source_url: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    imported_revision_id: Mapped[int | None] = mapped_column(Integer)

    category: Mapped[Category | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    tag_rows: Mapped[list[ArticleTag]] = relationship(
        cascade="all, delete-orphan", order_by=ArticleTag.tag, passive_deletes=True
    )
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Revision.id", passive_deletes=True
    )

    @property
    def tags(self) -> list[str]:
        return sorted(row.tag for row in self.tag_rows)

    @property
    def url(self) -> str:
        return article_url(self)

    @property
    def is_published(self) -> bool:
        return self.status is ArticleStatus.PUBLISHED

    @property
    def helpful_ratio(self) -> float | None:
        total = self.helpful_yes + self.helpful_no
        return self.helpful_yes / total if total else None

    def __repr__(self) -> str:
        return f"<Article {self.slug} {self.status.value}>"


def article_url(article: Article | str, external: bool = False) -> str:
    """The one builder of an article page's address (views, feeds, sitemap, search documents, mail).

    Takes the article or just its slug, for lists that load slugs only (the sitemap).
    """
    from kb.urls import build_url

    slug = article if isinstance(article, str) else article.slug
    return build_url("articles.show", slug=slug, external=external)


class Revision(db.Model):
    """A saved state of an article's words; every save adds one."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="revisions")
    editor: Mapped[User | None] = relationship()


class Feedback(db.Model):
    """One reader's answer to "was this helpful?": one per user, or per browser session when anonymous."""

    __tablename__ = "article_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    session_key: Mapped[str | None] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("article_id", "user_id", name="uq_article_feedback_article_user"),
        UniqueConstraint("article_id", "session_key", name="uq_article_feedback_article_session"),
    )
