"""Articles: the knowledge base of Markdown articles, its categories, revisions, feedback and feeds."""

from __future__ import annotations

from flask import Flask

from kb.articles.views import bp
from kb.hooks import (
    InitStepError,
    register_home_section,
    register_init_step,
    register_nav,
    register_sitemap,
    register_template_helper,
)


def init_app(app: Flask) -> None:
    from kb.articles import page_cache, settings
    from kb.articles.cli import export_content_command, import_content_command
    from kb.articles.models import article_url

    settings.apply(app.config)
    page_cache.install_listeners()
    app.register_blueprint(bp)
    app.cli.add_command(import_content_command)
    app.cli.add_command(export_content_command)
    register_nav(app, "Articles", "articles.index", 10)
    register_nav(app, "Needs review", "articles.review_queue", 80,
                 visible=lambda user: bool(getattr(user, "is_staff", False)))
    register_home_section(app, "articles/_home_categories.html", _home_categories, 10)
    register_home_section(app, "articles/_home_articles.html", _home_articles, 20)
    register_sitemap(app, _sitemap_entries)
    register_init_step(app, 20, "Importing bundled content", _import_bundled_content)
    register_template_helper(app, "article_url", article_url)
    _register_search(app)


def _register_search(app: Flask) -> None:
    """Hand articles to the search boundary when it offers a registry (kb.search.register_kind)."""
    import kb.search

    register_kind = getattr(kb.search, "register_kind", None)
    if register_kind is None:
        return
    from kb.articles.models import Article, ArticleTag, Category
    from kb.articles.search_docs import (
        all_article_ids,
        article_ids_in_category,
        build_article_docs,
    )

    register_kind(app, kind="article", build=build_article_docs, all_ids=all_article_ids,
                  watch={Article: lambda article: [article.id], ArticleTag: lambda row: [row.article_id],
                         Category: article_ids_in_category})


def _home_categories(user) -> dict:
    from kb.articles import queries

    return {"categories": queries.categories_with_counts()}


def _home_articles(user) -> dict:
    from flask import current_app

    from kb.articles import queries

    return {
        "popular": queries.popular_articles(current_app.config["HOME_POPULAR_COUNT"]),
        "recent": queries.recent_articles(current_app.config["HOME_RECENT_COUNT"]),
    }


def _sitemap_entries():
    """Published articles, every category page and the article list: what anyone may read."""
    from flask import url_for
    from sqlalchemy import select

    from kb.articles.models import Article, ArticleStatus, Category, article_url
    from kb.extensions import db

    yield url_for("articles.index"), None
    for slug in db.session.scalars(select(Category.slug).order_by(Category.position)):
        yield url_for("articles.category", slug=slug), None
    rows = db.session.execute(
        select(Article.slug, Article.updated_at).where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.slug)
    )
    for slug, updated in rows:
        yield article_url(slug), updated


def _import_bundled_content() -> str:
    from pathlib import Path

    from flask import current_app

    from kb.articles.cli import run_import
    from kb.articles.editing import rerender_outdated
    from kb.extensions import db

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
