"""A per-process cache of rendered article pages for anonymous readers.

Most article views come from people who are not signed in and see exactly the same page. A hit
is re-checked against the database (status and updated time of the article and of every article
in its "Related" list, one small query) whenever it was last checked more than
ARTICLE_PAGE_CACHE_CHECK_SECONDS ago (default 1 s), so an edit, an archive or an unpublish of the
article or of one it lists reaches every worker within that time; a newly published related
article and review badges can lag by at most ARTICLE_PAGE_CACHE_SECONDS. Only GET responses are
stored (a HEAD is served from the cache but never fills it), and the page does not depend on the
method. The per-session CSRF token of the feedback form is put in per request, so a cached page
never hands one visitor's token to another.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from datetime import datetime

from flask import Flask, current_app, has_app_context, request, session
from flask_login import current_user
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from kb.articles.models import Article, ArticleStatus, ArticleTag, Category
from kb.extensions import db

# Stands in for the CSRF token in a cached page; random per process so no article can contain it.
CSRF_MARKER = f"kb-csrf-{secrets.token_hex(12)}"
# Built once: the freshness check runs on every cached hit.
_STAMPS = select(Article.id, Article.status, Article.updated_at).where(Article.id.in_(bindparam("ids", expanding=True)))


class PageCache:
    def __init__(self, size: int):
        self.size = size
        # slug -> [html, {article id: updated_at} of the page's article and those it lists, stored at,
        # last checked at] (monotonic seconds)
        self.entries: OrderedDict[str, list] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, slug: str, ttl: float, check_every: float) -> str | None:
        with self.lock:
            entry = self.entries.get(slug)
        if entry is None:
            return None
        html, stamps, stored, checked = entry
        now = time.monotonic()
        if now - stored > ttl:
            self.drop(slug)
            return None
        if now - checked >= check_every:
            rows = db.session.execute(_STAMPS, {"ids": list(stamps)}).all()
            current = {row.id: row.updated_at for row in rows if row.status is ArticleStatus.PUBLISHED}
            if current != stamps:
                self.drop(slug)
                return None
            entry[3] = now
        return html

    def put(self, slug: str, html: str, stamps: dict[int, datetime]) -> None:
        """Keep a page with the update times of every article it shows (itself and its related list)."""
        now = time.monotonic()
        with self.lock:
            self.entries[slug] = [html, dict(stamps), now, now]
            self.entries.move_to_end(slug)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def drop(self, slug: str) -> None:
        with self.lock:
            self.entries.pop(slug, None)

    def drop_showing(self, article_id: int) -> None:
        """Forget every page that shows this article: its own and those listing it as related."""
        with self.lock:
            for slug in [slug for slug, entry in self.entries.items() if article_id in entry[1]]:
                del self.entries[slug]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def cache_for(app: Flask) -> PageCache:
    cache = app.extensions.get("kb_article_pages")
    if cache is None:
        cache = app.extensions["kb_article_pages"] = PageCache(int(app.config["ARTICLE_PAGE_CACHE_SIZE"]))
    return cache


def _forget_changed(session, flush_context) -> None:
    """Changes made in this process show at once; other processes notice within the check interval."""
    if not has_app_context():
        return
    cache = current_app.extensions.get("kb_article_pages")
    if cache is None or not cache.entries:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Article):
            cache.drop(obj.slug)
            if obj.id is not None:
                cache.drop_showing(obj.id)
        elif isinstance(obj, (Category, ArticleTag)):
            cache.clear()
            return


def install_listeners() -> None:
    if not event.contains(Session, "after_flush", _forget_changed):
        event.listen(Session, "after_flush", _forget_changed)


def stamps(article: Article, related: list[Article]) -> dict[int, datetime]:
    return {shown.id: shown.updated_at for shown in (article, *related)}


def storable() -> bool:
    """A HEAD response is never stored: only a GET's page goes into the cache."""
    return request.method == "GET"


def cacheable() -> bool:
    """Only a plain anonymous GET or HEAD, with nothing personal to show (flash messages, an earlier vote)."""
    if float(current_app.config["ARTICLE_PAGE_CACHE_SECONDS"]) <= 0 or request.args:
        return False
    if current_user.is_authenticated:
        return False
    return "_flashes" not in session and "kb_voter" not in session


def personalise(html: str) -> str:
    """Put this visitor's CSRF token into a cached page."""
    from flask_wtf.csrf import generate_csrf

    return html.replace(CSRF_MARKER, generate_csrf())
