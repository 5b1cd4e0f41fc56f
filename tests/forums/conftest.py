"""Forum fixtures: the bundled categories, and helpers that create threads through the real logic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import ForumCategory, Post
from kb.forums.seed import seed_categories
from kb.types import utcnow


@pytest.fixture
def categories(app) -> dict[str, ForumCategory]:
    """Every category from content/forums.yml, by slug."""
    seed_categories()
    db.session.commit()
    return {c.slug: c for c in db.session.scalars(select(ForumCategory))}


def age(user, days: float = 30) -> None:
    """Make an account old enough to skip the new-account posting limit."""
    user.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


@pytest.fixture
def make_thread(app, categories):
    def make(author, slug: str = "replication", title: str = "RPO alarm after adding a VM", body: str = "What does it mean?", tags=None):
        thread = threads.create_thread(categories[slug], author, title, body, tags or [])
        db.session.commit()
        return thread

    return make


@pytest.fixture
def make_reply(app):
    def make(thread, author, body: str = "Check the journal size first."):
        post = threads.add_reply(thread, author, body)
        db.session.commit()
        return post

    return make


def first_post(thread) -> Post:
    return db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(True)))
