"""Whoosh keeps body words without positions: a quoted phrase is checked against the kept text."""

from __future__ import annotations

from flask_login import AnonymousUserMixin

from kb.search import search
from tests.search.notes import add_note

ANON = AnonymousUserMixin()


def test_a_quoted_phrase_is_looked_for_in_the_kept_text_of_the_body(search_app, app):
    app.config["SEARCH_SNIPPET_SOURCE_CHARS"] = 60
    add_note("Long page", "filler " * 20 + "journal overflow at the end")
    assert search('"journal overflow"', ANON).total == 0
    assert search("journal overflow", ANON).total == 1  # the words themselves are all indexed
