"""How results are ordered: which field a word is found in, and where in the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from kb.extensions import db
from kb.search import search
from kb.search.engines.whoosh import postings, searchers
from kb.search.engines.whoosh.schema import LEAD_WORDS
from tests.search.notes import Note, add_note

ANON = AnonymousUserMixin()
# Words no query below asks for, to push a word past the opening of a page or to equal lengths.
FILLER = " ".join(f"filler{n}" for n in range(LEAD_WORDS + 10))


def titles(query: str) -> list[str]:
    return [hit.title for hit in search(query, ANON).results]


def test_a_title_holding_the_query_ranks_above_a_body_mention(search_app):
    add_note("Notes from the field", f"{FILLER} throttling")
    add_note("Throttling", FILLER)
    assert titles("throttling") == ["Throttling", "Notes from the field"]


def test_a_heading_counts_more_than_the_same_word_in_the_body(search_app):
    add_note("Notes one", f"{FILLER} throttling")
    add_note("Notes two", FILLER, headings="Throttling")
    assert titles("throttling") == ["Notes two", "Notes one"]


def test_words_at_the_opening_of_a_page_count_more_than_at_its_end(search_app):
    add_note("Notes one", f"{FILLER} throttling")
    add_note("Notes two", f"throttling {FILLER}")
    assert titles("throttling") == ["Notes two", "Notes one"]


def test_one_shared_title_word_does_not_outrank_the_page_the_words_come_from(search_app):
    """A reader who remembers words from a page finds it, not a page that has one of them as title."""
    add_note("Journal basics", f"Retention needs throttling. {FILLER}")
    add_note("Capacity planning", f"Journal retention needs throttling. {FILLER}")
    assert titles("journal retention throttling")[0] == "Capacity planning"
    # ...while a title holding every word still comes first.
    add_note("Journal retention throttling", FILLER)
    assert titles("journal retention throttling")[0] == "Journal retention throttling"


def test_a_shorter_page_with_the_same_matches_ranks_higher(search_app):
    add_note("Notes one", f"throttling {FILLER} {FILLER}")
    add_note("Notes two", f"throttling {FILLER}")
    assert titles("throttling") == ["Notes two", "Notes one"]


def test_reading_only_the_needed_posting_blocks_ranks_exactly_like_reading_everything(search_app, monkeypatch):
    """An AND query looks up its common words only for the documents its rare words left; the
    answer must be the one reading every posting gives."""
    db.session.add_all(Note(title=f"Note {n}", body=f"common words {'rare' if n % 97 == 0 else 'plain'} "
                            f"{'common ' * (n % 5)}{FILLER[: n % 200]}") for n in range(600))
    db.session.commit()

    def ranked():
        found = search("common rare", ANON, per_page=20)
        return found.total, [(hit.title, round(hit.score, 9)) for hit in found.results]

    monkeypatch.setattr(postings, "FULL_READ_BELOW", 0)
    monkeypatch.setattr(postings, "FULL_READ_RATIO", 0)
    partial = ranked()
    monkeypatch.setattr(postings, "FULL_READ_BELOW", 10**9)
    searchers.holder_for(Path(search_app.config["INDEX_DIR"])).cache.clear()
    assert ranked() == partial
    assert partial[0] == 7 and len(partial[1]) == 7


@pytest.mark.usefixtures("corpus")
def test_term_cache_limit_bounds_memory_not_results(app):
    app.config["SEARCH_TERM_CACHE_POSTINGS"] = 1
    for _ in range(2):
        assert search("sizing journals", ANON).results[0].title == "Sizing journals"
        assert search("appliance memory", ANON).results[0].title == "Replication appliance runs out of memory"
    holder = searchers.holder_for(Path(app.config["INDEX_DIR"]))
    assert sum(1 for _, frequencies in holder.cache["terms"].values() if frequencies) == 1
