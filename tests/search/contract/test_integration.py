"""Search over the real features: bundled articles, drafts and archives, forum threads and their posts."""

from __future__ import annotations

import re

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from kb.articles import editing
from kb.articles.models import Article
from kb.articles.sync import import_content
from kb.extensions import db
from kb.forums import threads
from kb.forums.models import ForumCategory
from kb.forums.moderation import move_thread
from kb.forums.seed import seed_categories
from kb.search import check, search
from kb.search.indexing import pending_count

ANON = AnonymousUserMixin()


def one_typo(title: str) -> str:
    """Change one letter in the middle of the title's longest word."""
    words = re.findall(r"[A-Za-z]+", title)
    word = max(words, key=len)
    i = len(word) // 2
    replacement = "x" if word[i].lower() != "x" else "z"
    return title.replace(word, word[:i] + replacement + word[i + 1:], 1)


@pytest.fixture
def bundled(app):
    report = import_content(app.config["CONTENT_DIR"], app.config)
    db.session.commit()
    assert not report.errors
    return db.session.scalars(select(Article).where(Article.status == "published")).all()


def rank(query: str, url: str, viewer=ANON) -> int | None:
    urls = [hit.url for hit in search(query, viewer, per_page=10).results]
    return urls.index(url) + 1 if url in urls else None


def test_every_bundled_article_is_found_by_title_and_by_title_with_a_typo(bundled):
    assert len(bundled) >= 30 and pending_count() == 0
    misses = []
    for article in bundled:
        url = f"/articles/{article.slug}"
        exact, typo = rank(article.title, url), rank(one_typo(article.title), url)
        if exact is None or exact > 3 or typo is None or typo > 3:
            misses.append((article.title, exact, one_typo(article.title), typo))
    assert not misses
    assert check().ok


def test_article_lifecycle(app, bundled):
    article = editing.create_article(title="Quokka appliance tuning", body="## Heap\n\nSet the quokka heap.",
                                     status="draft")
    db.session.commit()
    assert search("quokka", ANON).total == 0
    editing.publish(article)
    db.session.commit()
    assert [h.title for h in search("quokka", ANON).results] == ["Quokka appliance tuning"]
    assert search("heap", ANON).facets["kind"] == {"article": 1}
    editing.archive(article)
    db.session.commit()
    assert search("quokka", ANON).total == 0


@pytest.fixture
def forum(app, make_user):
    seed_categories()
    db.session.commit()
    author = make_user("customer")
    cats = {c.slug: c for c in db.session.scalars(select(ForumCategory))}
    return author, cats


def test_threads_posts_hiding_and_private_categories(forum, make_user):
    author, cats = forum
    moderator = make_user("staff")
    thread = threads.create_thread(cats["replication"], author, "Wombat alarm after adding a VM", "What is it?", [])
    db.session.commit()
    reply = threads.add_reply(thread, moderator, "Raise the numbat threshold.")
    db.session.commit()
    assert [h.title for h in search("numbat", ANON).results] == ["Wombat alarm after adding a VM"]
    threads.hide_post(reply, moderator)
    db.session.commit()
    assert search("numbat", ANON).total == 0
    assert search("wombat", ANON).total == 1

    staff_only = threads.create_thread(cats["staff-room"], moderator, "Wombat escalation notes", "internal", [])
    db.session.commit()
    assert {h.title for h in search("wombat", ANON).results} == {"Wombat alarm after adding a VM"}
    assert {h.title for h in search("wombat", author).results} == {"Wombat alarm after adding a VM"}
    assert search("wombat", moderator).total == 2
    assert search("escalation", author).facets["kind"] == {}

    move_thread(thread, cats["staff-room"])
    db.session.commit()
    assert search("wombat", ANON).total == 0
    assert search("wombat", moderator).total == 2
    assert staff_only.id
    assert check().ok
