"""What only the PostgreSQL engine does: refuse other databases, write with the content's own
transaction (no outbox, no lag), and search the table with SQL."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select, text

from kb import create_app
from kb.extensions import db
from kb.hooks import init_steps
from kb.search import ranking, search, suggest
from kb.search.engines.postgres import scoring
from kb.search.models import SearchDocument, SearchLexeme, SearchOutbox
from tests.conftest import POSTGRES_URL
from tests.search.notes import Note, add_note

ANON = AnonymousUserMixin()


def test_a_site_on_sqlite_cannot_choose_it(tmp_path):
    with pytest.raises(RuntimeError, match="needs the site's database to be PostgreSQL"):
        create_app({"ENV": "testing", "SECRET_KEY": "x", "SEARCH_ENGINE": "postgres",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}"}, instance_path=str(tmp_path))


pytestmark_pg = pytest.mark.skipif(not POSTGRES_URL, reason="needs KB_TEST_DATABASE_URL")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SEARCH_ENGINE": "postgres"}


@pytestmark_pg
def test_documents_are_written_in_the_contents_transaction(search_app):
    db.session.add(Note(title="Uncommitted heron"))
    db.session.flush()
    with db.engine.connect() as other:  # another host sees nothing before the commit
        assert other.execute(text("SELECT count(*) FROM search_documents")).scalar_one() == 0
    db.session.commit()
    with db.engine.connect() as other:  # and the document the moment it commits
        assert other.execute(text("SELECT title FROM search_documents")).scalars().all() == ["Uncommitted heron"]
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    db.session.add(Note(title="Rolled back egret"))
    db.session.flush()
    db.session.rollback()
    assert search("egret", ANON).total == 0
    assert db.session.scalar(select(func.count()).select_from(SearchDocument)) == 1


@pytestmark_pg
def test_the_word_list_keeps_words_per_visibility(search_app):
    add_note("Public kestrel", "open words")
    add_note("Staff merlin", "internal words", visibility="role:staff")
    words = {(w.word, w.visibility) for w in db.session.scalars(select(SearchLexeme))}
    assert ("kestrel", "public") in words and ("merlin", "role:staff") in words
    assert ("merlin", "public") not in words


@pytestmark_pg
def test_a_quoted_phrase_is_found_anywhere_in_a_long_body(search_app, app):
    app.config["SEARCH_SNIPPET_SOURCE_CHARS"] = 60
    add_note("Long page", "filler " * 200 + "journal overflow at the end")
    assert search('"journal overflow"', ANON).total == 1
    assert search('"overflow journal"', ANON).total == 0


@pytestmark_pg
def test_a_removed_documents_words_are_never_offered(search_app):
    note = add_note("Osprey notes", "About the quillwert appliance.")
    assert search("quillwart", ANON).did_you_mean == "quillwert"
    note.visibility = "role:staff"
    db.session.commit()
    assert search("quillwart", ANON).did_you_mean is None  # the word stays listed until a rebuild


@pytestmark_pg
def test_did_you_mean_passes_over_a_spelling_no_result_holds_to_one_that_a_result_does(search_app):
    """The nearest, first spelling is only in a page moved out of sight (its word stays listed);
    the next one is in a public page, and it is offered, sorted by relevance or by date."""
    hidden = add_note("Osprey notes", "About the quillwert appliance.")
    add_note("Heron notes", "A quillwort grows by the rack.")
    hidden.visibility = "role:staff"
    db.session.commit()
    for sort in ("relevance", "newest"):
        found = search("quillwart", ANON, sort=sort)
        assert found.did_you_mean == "quillwort"
        assert [hit.title for hit in found.results] == ["Heron notes"]


@pytestmark_pg
def test_snippets_keep_only_marks(search_app):
    add_note("Markup page", 'Run <b onclick="x()">the</b> quokka & "tidy" <script>alert(1)</script> step.')
    snippet = str(search("quokka", ANON).results[0].snippet)
    assert "<mark>quokka</mark>" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&lt;script&gt;" in snippet and "&amp;" in snippet


@pytestmark_pg
def test_planner_settings_hold_only_for_the_search(search_app):
    """A search turns sequential scans and JIT off, prices random pages lower and lowers pg_trgm's
    threshold for itself; whatever the request does next in the same transaction plans as usual."""
    add_note("Replication lag on the standby", "the standby falls behind")
    settings = text("SELECT current_setting('enable_seqscan'), current_setting('pg_trgm.similarity_threshold'), "
                    "current_setting('jit'), current_setting('random_page_cost')")
    before = db.session.execute(settings).one()
    assert search("replicaton standby", ANON).total == 1
    assert [s["title"] for s in suggest("replicatoin st", ANON)] == ["Replication lag on the standby"]
    after = db.session.execute(settings).one()
    assert tuple(after) == tuple(before)
    assert tuple(before)[:2] == ("on", "0.3") and tuple(before)[3] != "1.1"


@pytestmark_pg
def test_init_rewrites_documents_written_in_an_older_format(search_app):
    """Documents written before the way rows are written changed (here: an error code read as a
    signed number) are rewritten by `kb init`, so the upgrade needs no step of its own."""
    add_note("Mapping missing (HS-5124)", "The recovery plan stops.")
    db.session.execute(text("UPDATE search_documents SET tsv = to_tsvector('kb_english', title)"))
    db.session.execute(text("COMMENT ON TABLE search_documents IS NULL"))
    db.session.commit()
    assert search("HS-5124", ANON).total == 0
    step = dict(init_steps(search_app))["Building the search index"]
    assert step() == "Rebuilt the search index: its documents were written in an older format (1 documents)."
    assert search("HS-5124", ANON).total == 1
    assert step().startswith("The index is in place (1 documents")


@pytestmark_pg
def test_facets_are_counted_per_set_of_values_and_only_over_what_the_viewer_may_see(search_app, make_user):
    """Matches are grouped by their facet set (kind, category and facet terms as one number) and the
    set's values read from any document that has it: a staff page of the same set as a public one
    still counts only for staff."""
    shared = {"category": "failover", "article_type": "how-to", "versions": "8.0,7.3"}
    add_note("Failover heron one", "heron", **shared)
    add_note("Failover heron two", "heron", **shared)
    add_note("Staff heron", "heron", visibility="role:staff", **shared)
    add_note("Heron elsewhere", "heron", category="sizing", versions="8.0")
    sets = db.session.execute(text("SELECT count(DISTINCT facet_set) FROM search_documents")).scalar_one()
    assert sets == 2
    found = search("heron", ANON)
    assert found.total == 3
    assert found.facets["kind"] == {"note": 3}
    assert found.facets["category"] == {"failover": 2, "sizing": 1}
    assert found.facets["versions"] == {"8.0": 3, "7.3": 2}
    assert found.facets["article_type"] == {"how-to": 2}
    as_staff = search("heron", make_user("staff"))
    assert as_staff.facets["category"] == {"failover": 3, "sizing": 1}
    assert as_staff.facets["versions"] == {"8.0": 4, "7.3": 3}


def test_the_reranking_reads_each_stems_fields_from_the_tsvector_as_text():
    """A tsvector as PostgreSQL prints it: weights A-C spelt out, a bare position is D (tags), a
    quote doubled; each stem's frequency is weighted by field, and a title position marks it."""
    found = scoring.read([("note", 1, 40, "'applianc':2A,12B,60C,86 'it''s':3 'back\\\\slash':7C", '{"applianc": 5}'),
                          ("note", 2, 10, "", None)])
    weight = ranking.FIELD_WEIGHTS
    length, held = found.documents[("note", 1)]
    assert length == 40
    assert held["applianc"] == (pytest.approx(weight["title"] + weight["headings"] + weight["body"] + weight["tags"]),
                                True)
    assert held["it's"] == (pytest.approx(weight["tags"]), False)
    assert held["back\\slash"] == (pytest.approx(weight["body"]), False)
    assert found.documents[("note", 2)] == (10, {})
    assert found.frequencies == {"applianc": 5}
    assert scoring.holder(found)(["applianc", "it's"]) and not scoring.holder(found)(["applianc", "other"])
