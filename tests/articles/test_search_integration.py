"""Articles reach the real search index through kb.search's registry: published only, and kept current."""

from __future__ import annotations

from flask_login import AnonymousUserMixin

from kb import search
from kb.articles import editing
from kb.extensions import db


def _urls(query: str) -> list[str]:
    search.drain()
    return [hit.url for hit in search.search(query, AnonymousUserMixin()).results]


def test_published_articles_are_found_and_drafts_and_archived_are_not(app, make_article, staff):
    live = make_article(title="Journal overflow", body="## Cause\n\nThe zorblatt journal filled up.")
    draft = make_article(title="Zorblatt draft", body="zorblatt secret plans", status="draft")
    assert _urls("zorblatt") == ["/articles/journal-overflow"]
    editing.publish(draft)
    db.session.commit()
    assert sorted(_urls("zorblatt")) == ["/articles/journal-overflow", "/articles/zorblatt-draft"]
    editing.archive(live)
    db.session.commit()
    assert _urls("zorblatt") == ["/articles/zorblatt-draft"]
    editing.apply_changes(draft, title="Renamed", body="nothing here now", category=draft.category, editor=staff)
    db.session.commit()
    assert _urls("zorblatt") == []
