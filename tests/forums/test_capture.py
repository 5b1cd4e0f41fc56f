"""Turning a solved thread into an article draft: a plain-text summary, the mapped category, tags and versions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.articles.models import Article, Category
from kb.extensions import db
from kb.forums.capture import plain_summary
from kb.markup import render_post
from tests.conftest import login

QUESTION = (
    "After the upgrade to **8.0** the [journal](https://docs.example/journal) keeps only 2 hours. "
    "We configured 24 hours. Any idea?\n\n"
    "```\nhsctl journal show --vpg finance\nhistory: 2h\n```\n\n"
    "| VPG | history |\n|---|---|\n| finance | 2h |\n"
)


def test_summary_is_the_first_sentences_as_plain_text():
    summary = plain_summary(render_post(QUESTION), 300)
    assert summary == ("After the upgrade to 8.0 the journal keeps only 2 hours. We configured 24 hours. Any idea?")


def test_summary_stops_at_a_sentence_within_the_limit():
    assert plain_summary(render_post(QUESTION), 70) == "After the upgrade to 8.0 the journal keeps only 2 hours."


def test_one_long_sentence_is_cut_at_a_word():
    summary = plain_summary(render_post("word " * 100), 40)
    assert len(summary) <= 40 and summary.endswith("word…")


@pytest.fixture
def kb_categories(app):
    rows = [Category(name="Failover and recovery", slug="failover-and-recovery", position=1),
            Category(name="Networking", slug="networking", position=2)]
    db.session.add_all(rows)
    db.session.commit()
    return {c.slug: c for c in rows}


def _capture(client, staff, thread, make_reply):
    reply = make_reply(thread, staff, "Raise the journal hard limit; history grows back within a day.")
    login(client, staff)
    client.post(f"/posts/{reply.id}/accept")
    assert client.post(f"/threads/{thread.id}/capture").status_code == 302
    return db.session.scalar(select(Article).where(Article.title == thread.title))


def test_draft_carries_category_tags_versions_and_a_plain_summary(client, customer, staff, make_thread, make_reply, kb_categories):
    thread = make_thread(customer, slug="failover", title="Journal history short after upgrade", body=QUESTION,
                         tags=["8.0", "journal", "7.3"])
    article = _capture(client, staff, thread, make_reply)
    assert article.category.slug == "failover-and-recovery"  # mapped by FORUMS_ARTICLE_CATEGORIES
    assert article.tags == ["journal"]
    assert article.versions == ["8.0", "7.3"]
    assert article.summary.startswith("After the upgrade to 8.0 the journal keeps only 2 hours.")
    assert "```" not in article.summary and "**" not in article.summary and "hsctl" not in article.summary
    assert "```" in article.body  # the body keeps the code for staff to rework


def test_a_category_with_the_same_slug_is_used_without_mapping(client, customer, staff, make_thread, make_reply, kb_categories):
    thread = make_thread(customer, slug="networking", title="Which MTU between the sites?", body="We see fragmentation.")
    assert _capture(client, staff, thread, make_reply).category.slug == "networking"


def test_the_mapping_is_a_setting_and_unmapped_threads_get_no_category(app, client, customer, staff, make_thread,
                                                                       make_reply, kb_categories):
    app.config["FORUMS_ARTICLE_CATEGORIES"] = {"failover": "networking"}
    thread = make_thread(customer, slug="failover", title="Boot order during a test failover", body="VMs boot in random order.")
    assert _capture(client, staff, thread, make_reply).category.slug == "networking"
    lounge = make_thread(customer, slug="customer-lounge", title="Runbook template to share", body="Here is ours.")
    assert _capture(client, staff, lounge, make_reply).category is None
