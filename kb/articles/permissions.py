"""Who may read and change knowledge-base articles: the one place views, lists, feeds and search ask."""

from __future__ import annotations

from kb.accounts.permissions import is_staff
from kb.articles.models import Article, ArticleStatus


def can_read(user, article: Article) -> bool:
    """Everyone reads published articles; only staff see drafts and archived ones."""
    return article.status is ArticleStatus.PUBLISHED or is_staff(user)


def can_edit(user, article: Article | None = None) -> bool:
    """Staff and admins write the knowledge base."""
    return is_staff(user)


def can_see_feedback(user) -> bool:
    return is_staff(user)
