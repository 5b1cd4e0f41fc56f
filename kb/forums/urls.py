"""The one builder of thread and post addresses: views, mail, search documents and the sitemap use it."""

from __future__ import annotations

from flask import current_app

from kb.forums.models import Post, Thread
from kb.forums.threads import post_page
from kb.urls import build_url


def thread_url(thread: Thread, *, external: bool = False, **values) -> str:
    """``/threads/<id>-<slug>`` (just ``/threads/<id>`` without a slug); ``values`` add query arguments."""
    return build_url("forums.thread", external=external, thread_id=thread.id, slug=thread.slug or None, **values)


def post_url(post: Post, *, external: bool = False) -> str:
    """The thread page that shows a post, anchored at it."""
    page = post_page(post, current_app.config["FORUMS_POSTS_PER_PAGE"])
    return thread_url(post.thread, external=external, page=page if page > 1 else None, _anchor=f"post-{post.id}")
