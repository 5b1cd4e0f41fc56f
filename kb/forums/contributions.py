"""What the forums put on pages and jobs the site owns: the home-page section, sitemap entries, the user menu, the worker's draft clean-up."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from kb import page_cache
from kb.extensions import db
from kb.forums import threads
from kb.forums.models import Access, ForumCategory, Thread
from kb.forums.notifications import unread_count
from kb.forums.urls import thread_url
from kb.hooks import notification_sources
from kb.urls import build_url


def home_context(user) -> dict:
    """The home page's community section: Latest and Unanswered, from what the viewer may read."""
    config = current_app.config
    return {
        "threads": threads.latest(user, config["FORUMS_HOME_THREADS"]),
        "unanswered": threads.unanswered(user, config["FORUMS_HOME_UNANSWERED_THREADS"]),
        "can_ask": bool(threads.askable_categories(user)),
    }


def sitemap():
    """Forum pages an anonymous visitor may read: the index, public categories and their threads."""
    yield build_url("forums.index"), None
    public = db.session.scalars(select(ForumCategory).where(ForumCategory.read_access == Access.EVERYONE)).all()
    for category in public:
        yield build_url("forums.category", slug=category.slug), None
    query = (
        select(Thread)
        .where(Thread.category_id.in_([c.id for c in public]), Thread.removed.is_(False))
        .order_by(Thread.last_activity_at.desc())
        .limit(current_app.config["FORUMS_SITEMAP_THREADS"])
    )
    for thread in db.session.scalars(query):
        yield thread_url(thread), thread.last_activity_at


def category_labels() -> dict[str, str]:
    """Forum category names by slug, for the search page's category facet."""
    return page_cache.kept("forums-category-labels", ("forums",), lambda: {
        slug: name for slug, name in db.session.execute(select(ForumCategory.slug, ForumCategory.name))})


def thread_articles(ids: list[int]) -> dict[int, tuple[str, int]]:
    """The article each of these threads was turned into, if any: search shows one of the two."""
    if not ids:
        return {}
    rows = db.session.execute(select(Thread.id, Thread.article_id).where(Thread.id.in_(ids), Thread.article_id.is_not(None)))
    return {thread_id: ("article", article_id) for thread_id, article_id in rows}


def unread_total(user) -> int:
    """Unread forum and other notifications, counted once per request (the header shows it twice) and
    once per worker while nothing of the user's and no change counter moved."""
    if not getattr(user, "is_authenticated", False):
        return 0
    cached = request.environ.get("kb.unread_total")  # per request, whatever the app context's lifetime
    if cached is None or cached[0] != user.id:
        def count() -> int:
            return unread_count(user) + sum(source.unread(user) for source in notification_sources(current_app).values())

        cached = request.environ["kb.unread_total"] = (user.id, page_cache.per_viewer("unread", user, count))
    return cached[1]


def user_menu() -> str:
    """The notifications link with its unread count, for signed-in users."""
    if not current_user.is_authenticated:
        return ""
    return render_template("forums/_user_menu.html", unread=unread_total(current_user))


def prune_drafts() -> str | None:
    """The worker's periodic clean-up of drafts nobody came back to."""
    from kb.forums import drafts

    removed = drafts.prune_expired()
    return f"deleted {removed} expired drafts" if removed else None


def rerender_posts() -> str:
    """``kb init``: render again the posts an older Markdown pipeline made, so they show as new posts do."""
    refreshed = threads.rerender_outdated()
    db.session.commit()
    return f"{refreshed} forum posts re-rendered with the current Markdown pipeline." if refreshed else "Forum posts are up to date."
