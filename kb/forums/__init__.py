"""Community forums: categories, threads, answers, watching, moderation and the secret scanner."""

from __future__ import annotations

from flask import Flask

from kb import page_cache
from kb.accounts.permissions import is_staff
from kb.forums import settings
from kb.forums.views import bp
from kb.hooks import (
    USER_MENU,
    register_facet_labels,
    register_home_section,
    register_init_step,
    register_mail_source,
    register_nav,
    register_periodic,
    register_sitemap,
    register_slot,
    register_stylesheet,
    register_superseded_by,
    register_template_helper,
)
from kb.images import accept_images


def _register_search(app: Flask) -> None:
    import kb.search
    from kb.forums.models import ForumCategory, Post, Thread
    from kb.forums.search_docs import (
        all_thread_ids,
        build_thread_docs,
        category_thread_ids,
    )

    kb.search.register_kind(
        app,
        kind="thread",
        build=build_thread_docs,
        all_ids=all_thread_ids,
        watch={
            Thread: lambda t: [t.id],
            Post: lambda p: [p.thread_id],
            ForumCategory: category_thread_ids,
        },
    )


def _register_pages(app: Flask) -> None:
    """Signed-out visitors read the forum pages from the page cache; a thread shows the article made of it.
    A signed-in user's thread page is kept for them too: what is theirs on it (likes, watching, the
    notification count) comes from rows that name them."""
    from kb.forums.models import (
        ForumCategory,
        Notification,
        Post,
        PostLike,
        Subscription,
        Thread,
    )

    page_cache.watch(app, "forums", ForumCategory, Thread, Post, PostLike)
    for model in (PostLike, Subscription, Notification):
        page_cache.watch_viewer(app, model, "user_id")
    for endpoint in ("forums.index", "forums.category", "forums.feed"):
        page_cache.register_page(app, endpoint, "forums")
    page_cache.register_page(app, "forums.thread", "forums", "articles", signed_in=True)


def init_app(app: Flask) -> None:
    from kb.forums import contributions, notifications, permissions, rendering, urls
    from kb.forums.cli import seed_command
    from kb.forums.seed import init_step

    settings.apply(app.config)
    app.register_blueprint(bp)
    accept_images(app, "forums.new_thread", "forums.ask", "forums.reply", "forums.edit_post", "forums.upload_image")
    _register_pages(app)
    app.cli.add_command(seed_command)
    register_init_step(app, "forums.categories", "Seeding forum categories", init_step)
    register_init_step(app, "forums.posts", "Re-rendering forum posts", contributions.rerender_posts)
    register_nav(app, "Community", "forums.index")
    register_nav(app, "Moderation", "forums.moderation_queue", visible=is_staff)
    register_home_section(app, "forums/_home_section.html", contributions.home_context)
    register_stylesheet(app, "forums")
    register_sitemap(app, contributions.sitemap)
    register_facet_labels(app, "category", contributions.category_labels)
    register_superseded_by(app, "thread", contributions.thread_articles)
    register_slot(app, USER_MENU, contributions.user_menu)
    register_template_helper(app, "forum_can_reply", permissions.can_reply)
    register_template_helper(app, "forum_can_add_images", permissions.can_add_images)
    register_template_helper(app, "forum_can_edit", permissions.can_edit)
    register_template_helper(app, "thread_url", urls.thread_url)
    register_template_helper(app, "forum_post", rendering.post_html)
    register_template_helper(app, "post_url", urls.post_url)
    register_template_helper(app, "notifications_unread", contributions.unread_total)
    register_periodic(app, "Expired drafts", "WORKER_CLEANUP_INTERVAL", contributions.prune_drafts)
    register_mail_source(app, notifications.write_out_mailings, notifications.oldest_mailing)
    _register_search(app)
