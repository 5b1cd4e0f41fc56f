"""Articles: the knowledge base of Markdown articles, its categories, revisions, feedback and feeds."""

from __future__ import annotations

from flask import Flask

from kb import page_cache
from kb.articles import editor_views  # noqa: F401  (registers its pages on bp)
from kb.articles.views import bp
from kb.hooks import (
    register_facet_labels,
    register_home_section,
    register_init_step,
    register_nav,
    register_sitemap,
    register_stylesheet,
    register_template_helper,
)
from kb.images import accept_images


def init_app(app: Flask) -> None:
    from kb.articles import contributions, settings
    from kb.articles.cli import export_content_command, import_content_command
    from kb.articles.models import Article, ArticleTag, Category, article_url

    settings.apply(app.config)
    page_cache.watch(app, "articles", Article, ArticleTag, Category)
    for endpoint in ("articles.index", "articles.category", "articles.show", "articles.feed"):
        page_cache.register_page(app, endpoint, "articles")
    app.register_blueprint(bp)
    accept_images(app, "articles.new", "articles.edit", "articles.upload_image")
    app.cli.add_command(import_content_command)
    app.cli.add_command(export_content_command)
    register_nav(app, "Articles", "articles.index")
    register_nav(app, "Needs review", "articles.review_queue",
                 visible=lambda user: bool(getattr(user, "is_staff", False)))
    register_home_section(app, "articles/_home_categories.html", contributions.home_categories)
    register_home_section(app, "articles/_home_articles.html", contributions.home_articles)
    register_stylesheet(app, "articles")
    register_sitemap(app, contributions.sitemap_entries)
    register_facet_labels(app, "category", contributions.category_labels)
    register_facet_labels(app, "article_type", contributions.article_type_labels)
    register_init_step(app, "articles.content", "Importing bundled content", contributions.import_bundled_content)
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
