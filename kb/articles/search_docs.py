"""Turn articles into plain search documents for kb.search; drafts and archived articles are removed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from kb.articles.models import Article, ArticleStatus, Category, article_url
from kb.extensions import db
from kb.search.documents import PUBLIC, SearchDoc


def article_doc(article: Article) -> SearchDoc | None:
    """The search document of one article, or None when it must not be found."""
    if article.status is not ArticleStatus.PUBLISHED:
        return None
    return SearchDoc(
        kind="article",
        id=article.id,
        title=article.title,
        body=article.plain_text or "",
        url=article_url(article),
        updated=article.updated_at,
        visibility=PUBLIC,
        headings=list(article.headings or []),
        tags=article.tags,
        category=article.category.slug if article.category else "",
        category_name=article.category.name if article.category else "",
        summary=article.summary or "",
        facets={"article_type": [article.type.value], "versions": list(article.versions or [])},
    )


def build_article_docs(ids: list[int]) -> dict[int, SearchDoc | None]:
    """Documents for the given ids in two queries; ids that no longer exist map to None."""
    docs: dict[int, SearchDoc | None] = {article_id: None for article_id in ids}
    if not ids:
        return docs
    articles = db.session.scalars(
        select(Article).where(Article.id.in_(ids)).options(joinedload(Article.category), selectinload(Article.tag_rows))
    )
    for article in articles:
        docs[article.id] = article_doc(article)
    return docs


def all_article_ids() -> list[int]:
    """Every article that belongs in the index (published ones)."""
    return list(db.session.scalars(select(Article.id).where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.id)))


def article_ids_in_category(category: Category) -> list[int]:
    """A renamed category changes every one of its articles' documents."""
    if category.id is None:
        return []
    return list(db.session.scalars(select(Article.id).where(Article.category_id == category.id)))
