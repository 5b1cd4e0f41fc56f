"""Reading the knowledge base: lists, the article page, related articles, home blocks, freshness.

Each function issues a fixed number of queries whatever the number of articles, tags or
related items, so pages stay fast as the knowledge base grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from kb.articles.models import (
    Article,
    ArticleStatus,
    ArticleTag,
    ArticleType,
    Category,
    Feedback,
    Revision,
)
from kb.extensions import db
from kb.types import utcnow

PUBLISHED = ArticleStatus.PUBLISHED


def article_by_slug(slug: str) -> Article | None:
    """The article with its category and tags, in two queries."""
    return db.session.scalar(
        select(Article)
        .where(Article.slug == slug)
        .options(joinedload(Article.category), selectinload(Article.tag_rows))
    )


def list_query(*, include_unpublished: bool = False, type: str | None = None, category: Category | None = None,
               tag: str | None = None, status: str | None = None):
    """A select of articles matching the list filters, newest first."""
    query = select(Article).options(joinedload(Article.category))
    if include_unpublished:
        if status:
            query = query.where(Article.status == ArticleStatus(status))
    else:
        query = query.where(Article.status == PUBLISHED)
    if type:
        query = query.where(Article.type == ArticleType(type))
    if category is not None:
        query = query.where(Article.category_id == category.id)
    if tag:
        query = query.where(
            select(ArticleTag.article_id).where(ArticleTag.article_id == Article.id, ArticleTag.tag == tag).exists()
        )
    return query.order_by(Article.updated_at.desc(), Article.id.desc())


def related_articles(article: Article, limit: int) -> list[Article]:
    """Published articles sharing the most tags, then the same category; one query."""
    tags = article.tags
    shared = (
        select(ArticleTag.article_id, func.count().label("shared"))
        .where(ArticleTag.tag.in_(tags or [""]))
        .group_by(ArticleTag.article_id)
        .subquery()
    )
    same_category = case((Article.category_id == article.category_id, 1), else_=0) if article.category_id else 0
    score = func.coalesce(shared.c.shared, 0)
    conditions = [shared.c.shared.is_not(None)]
    if article.category_id:
        conditions.append(Article.category_id == article.category_id)
    query = (
        select(Article)
        .outerjoin(shared, shared.c.article_id == Article.id)
        .where(Article.status == PUBLISHED, Article.id != article.id, or_(*conditions))
        .order_by(score.desc(), same_category.desc() if article.category_id else Article.id, Article.updated_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def categories_with_counts() -> list[tuple[Category, int]]:
    """Every category in its position with its number of published articles; one query."""
    count = func.count(Article.id)
    rows = db.session.execute(
        select(Category, count)
        .outerjoin(Article, and_(Article.category_id == Category.id, Article.status == PUBLISHED))
        .group_by(Category.id)
        .order_by(Category.position, Category.name)
    ).all()
    return [(category, number) for category, number in rows]


def site_index() -> tuple[list[tuple[Category, list[Article]]], list[Article]]:
    """Every category with its published articles by title, and those in no category; two queries."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))
    articles = db.session.scalars(
        select(Article).where(Article.status == PUBLISHED).order_by(func.lower(Article.title), Article.id)
    ).all()
    by_category: dict[int | None, list[Article]] = {}
    for article in articles:
        by_category.setdefault(article.category_id, []).append(article)
    return [(category, by_category.get(category.id, [])) for category in categories], by_category.get(None, [])


def popular_articles(limit: int) -> list[Article]:
    """Published articles readers found most helpful."""
    return list(
        db.session.scalars(
            select(Article)
            .where(Article.status == PUBLISHED)
            .order_by(Article.helpful_yes.desc(), Article.helpful_no, Article.updated_at.desc())
            .limit(limit)
        )
    )


def recent_articles(limit: int) -> list[Article]:
    return list(
        db.session.scalars(
            select(Article).where(Article.status == PUBLISHED).order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit)
        )
    )


def all_tags(limit: int = 60) -> list[tuple[str, int]]:
    """The most used tags of published articles, for the list filter."""
    rows = db.session.execute(
        select(ArticleTag.tag, func.count())
        .join(Article, Article.id == ArticleTag.article_id)
        .where(Article.status == PUBLISHED)
        .group_by(ArticleTag.tag)
        .order_by(func.count().desc(), ArticleTag.tag)
        .limit(limit)
    ).all()
    return sorted(((tag, number) for tag, number in rows), key=lambda row: row[0])


def revisions_of(article: Article) -> list[Revision]:
    return list(
        db.session.scalars(
            select(Revision).where(Revision.article_id == article.id).options(joinedload(Revision.editor)).order_by(Revision.id)
        )
    )


def feedback_of(article: Article, limit: int = 50) -> list[Feedback]:
    return list(
        db.session.scalars(
            select(Feedback).where(Feedback.article_id == article.id).options(joinedload(Feedback.user))
            .order_by(Feedback.created_at.desc()).limit(limit)
        )
    )


@dataclass
class ReviewItem:
    article: Article
    reasons: list[str] = field(default_factory=list)


def review_queue(*, max_age_days: int, ratio_threshold: float, min_votes: int, window_days: int,
                 current_version: str, now: datetime | None = None) -> list[ReviewItem]:
    """Published articles staff should check, each with the reasons why; oldest review first."""
    now = now or utcnow()
    stale_before = now - timedelta(days=max_age_days)
    window_start = now - timedelta(days=window_days)
    recent = {
        article_id: (yes or 0, total or 0)
        for article_id, yes, total in db.session.execute(
            select(
                Feedback.article_id,
                func.sum(case((Feedback.helpful.is_(True), 1), else_=0)),
                func.count(Feedback.id),
            )
            .where(Feedback.created_at >= window_start)
            .group_by(Feedback.article_id)
        ).all()
    }
    articles = db.session.scalars(
        select(Article).where(Article.status == PUBLISHED).options(joinedload(Article.reviewed_by))
    ).all()
    items: list[ReviewItem] = []
    for article in articles:
        reasons: list[str] = []
        reviewed = article.reviewed_at or article.published_at or article.created_at
        if article.reviewed_at is None:
            reasons.append("Never reviewed")
        elif reviewed < stale_before:
            reasons.append(f"Not reviewed for more than {max_age_days} days")
        yes, total = recent.get(article.id, (0, 0))
        if total >= min_votes and yes / total < ratio_threshold:
            reasons.append(f"Only {round(100 * yes / total)}% of {total} recent readers found it helpful")
        if article.verified_version != current_version:
            reasons.append(f"Not verified for version {current_version}")
        if reasons:
            items.append(ReviewItem(article, reasons))
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    items.sort(key=lambda item: (item.article.reviewed_at or epoch, item.article.id))
    return items
