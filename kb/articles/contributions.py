"""What articles put on pages the site owns (home sections, sitemap) and their step of ``kb init``."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from kb import page_cache
from kb.articles import queries
from kb.articles.models import (
    Article,
    ArticleStatus,
    ArticleType,
    Category,
    article_url,
)
from kb.extensions import db
from kb.hooks import InitStepError
from kb.urls import build_url


def home_categories(user) -> dict:
    return {"categories": queries.categories_with_counts()}


def home_articles(user) -> dict:
    return {
        "popular": queries.popular_articles(current_app.config["HOME_POPULAR_COUNT"]),
        "recent": queries.recent_articles(current_app.config["HOME_RECENT_COUNT"]),
    }


def category_labels() -> dict[str, str]:
    """Knowledge-base category names by slug, for the search page's category facet."""
    return page_cache.kept("articles-category-labels", ("articles",), lambda: {
        slug: name for slug, name in db.session.execute(select(Category.slug, Category.name))})


def article_type_labels() -> dict[str, str]:
    return {article_type.value: article_type.label for article_type in ArticleType}


def sitemap_entries():
    """Published articles, every category page and the article list: what anyone may read."""
    yield build_url("articles.index"), None
    for slug in db.session.scalars(select(Category.slug).order_by(Category.position)):
        yield build_url("articles.category", slug=slug), None
    rows = db.session.execute(
        select(Article.slug, Article.updated_at).where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.slug)
    )
    for slug, updated in rows:
        yield article_url(slug), updated


def import_bundled_content() -> str:
    """``kb init``: import content/ and re-render articles made by an older Markdown pipeline."""
    from kb.articles.cli import run_import
    from kb.articles.editing import rerender_outdated

    content_dir = Path(current_app.config["CONTENT_DIR"])
    report = run_import(content_dir)
    refreshed = rerender_outdated()
    db.session.commit()
    lines = [f"Articles: {report.summary()}" + (f"; {refreshed} re-rendered with the current pipeline" if refreshed else "")]
    if content_dir.is_dir() and not (content_dir / "categories.yml").is_file():
        lines.append(
            f"No categories.yml in {content_dir}, so no article categories were created. It holds a list of "
            "categories, each with name, slug, description and position; articles name theirs by slug."
        )
    lines += [f"conflict: {path}: {reason}" for path, reason in report.conflicts]
    lines += [f"error: {path}: {reason}" for path, reason in report.errors]
    if report.errors:
        raise InitStepError("\n  ".join(lines))
    return "\n  ".join(lines)
