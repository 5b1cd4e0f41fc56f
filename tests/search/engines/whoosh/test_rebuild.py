"""`kb reindex` writes segment by segment within the writer's memory budget, and `kb init` rebuilds an
index whose layout is out of date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import insert
from whoosh import fields
from whoosh import index as windex
from whoosh.codec import whoosh3
from whoosh.writing import PostingPool

from kb.extensions import db
from kb.hooks import init_steps
from kb.search import check, indexing, search
from kb.search.engines.whoosh import storage
from kb.search.engines.whoosh.schema import make_schema
from tests.search import notes
from tests.search.notes import Note, add_note

ANON = AnonymousUserMixin()
NOTES = 60
# About 100 KB of (estimated) postings: a dozen of the notes below per segment, with room for two
# more notes (about 7 KB each) above the point where the rebuild starts a new segment.
TINY_BUDGET_MB = 0.1


def root_of(app) -> Path:
    return Path(app.config["INDEX_DIR"])


def generations(app) -> list[str]:
    return sorted(p.name for p in root_of(app).iterdir() if p.name.startswith("gen-"))


def segment_count(app) -> int:
    root = root_of(app)
    with storage.open_generation(root, storage.current_generation(root)).reader() as reader:
        return len(reader.leaf_readers())


def add_many_notes(count: int = NOTES) -> None:
    """Notes written behind the outbox's back, so only a rebuild puts them in the index."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(insert(Note.__table__), [
        {"title": f"Gannet tuning guide {i}", "body": f"Step {i}: raise the quorum timeout of replica{i} and "
         "restart the cluster; check the journal for stalled heartbeats before rolling forward.",
         "headings": "", "tags": "", "category": "", "article_type": "", "versions": "", "visibility": "public",
         "published": True, "updated": start + timedelta(days=i)}
        for i in range(count)])
    db.session.commit()


@pytest.fixture
def spills(monkeypatch):
    """Every time a writer's posting pool spilled to a temporary run file."""
    saved = []
    original = PostingPool.save

    def save(self):
        saved.append(self.currentsize)
        return original(self)

    monkeypatch.setattr(PostingPool, "save", save)
    return saved


def test_rebuild_writes_a_segment_whenever_the_budget_fills_and_never_spills(search_app, spills):
    add_many_notes()
    search_app.config["SEARCH_WRITER_MEMORY_MB"] = TINY_BUDGET_MB
    assert indexing.rebuild(search_app) == NOTES
    assert spills == []
    assert segment_count(search_app) >= 4
    assert search("gannet", ANON, per_page=50).total == NOTES
    assert [h.title for h in search("replica7", ANON).results] == ["Gannet tuning guide 7"]
    newest = search("gannet", ANON, sort="newest", per_page=3).results
    assert [h.title for h in newest] == [f"Gannet tuning guide {i}" for i in (NOTES - 1, NOTES - 2, NOTES - 3)]
    assert check().ok

    # Incremental writes work on the segmented index: an update, a delete and an addition.
    first, second = db.session.scalars(db.select(Note).order_by(Note.id).limit(2)).all()
    first.title = "Puffin tuning guide"
    db.session.delete(second)
    db.session.commit()
    add_note("Another gannet note")
    assert search("puffin", ANON).total == 1
    assert search("gannet", ANON, per_page=50).total == NOTES - 2 + 1
    assert check().ok


def test_rebuild_within_the_default_budget_writes_one_segment(search_app, spills):
    add_many_notes()
    assert indexing.rebuild(search_app) == NOTES
    assert segment_count(search_app) == 1
    assert spills == []


def test_a_crash_after_segments_were_written_leaves_the_old_index_serving(search_app):
    add_note("Sizing journals")
    root = root_of(search_app)
    before = storage.current_generation(root)
    add_many_notes()
    search_app.config["SEARCH_WRITER_MEMORY_MB"] = TINY_BUDGET_MB
    search_app.config["SEARCH_DRAIN_BATCH"] = 20
    seen = {"calls": 0, "committed": 0}

    def build_then_explode(ids):
        seen["calls"] += 1
        if seen["calls"] == 2:
            new = [name for name in generations(search_app) if name != before]
            seen["committed"] = windex.open_dir(str(root / new[0])).doc_count()
            raise RuntimeError("database went away mid-rebuild")
        return notes.build(ids)

    search_app.extensions["kb_search"].kinds["note"].build = build_then_explode
    with pytest.raises(RuntimeError, match="mid-rebuild"):
        indexing.rebuild(search_app)
    assert seen["committed"] > 0  # the new generation already had segments when the rebuild failed
    assert storage.current_generation(root) == before
    assert generations(search_app) == [before]

    # The old generation still serves, and its writer lock was let go: writes reach it again.
    search_app.extensions["kb_search"].kinds["note"].build = notes.build
    assert search("journals", ANON).total == 1
    add_note("Written after the failed rebuild: emu")
    assert search("emu", ANON).total == 1


def old_schema() -> fields.Schema:
    """The schema before `updated` stopped indexing trie terms for range queries."""
    schema = make_schema()
    schema.remove("updated")
    schema.add("updated", fields.NUMERIC(int, bits=64, sortable=True, stored=True))
    return schema


def test_init_step_rebuilds_an_index_whose_layout_changed(search_app, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(storage, "make_schema", old_schema)
        add_note("Sizing journals")
        add_note("Platypus habits")
    root = root_of(search_app)
    old = storage.current_generation(root)
    assert storage.layout_changed(root)

    step = dict(init_steps(search_app))["Building the search index"]
    assert step() == "Rebuilt the search index: its layout changed (2 documents)."
    assert storage.current_generation(root) != old
    assert not storage.layout_changed(root)
    assert search("platypus", ANON).total == 1
    assert step().startswith("The index is in place (2 documents")


def test_a_fresh_index_has_todays_layout(search_app):
    root = root_of(search_app)
    storage.ensure_index(root)
    assert not storage.layout_changed(root)
    assert not storage.layout_changed(root / "nothing-here")


def test_updated_is_one_term_per_document(search_app):
    add_many_notes(5)
    indexing.rebuild(search_app)
    root = root_of(search_app)
    with storage.open_generation(root, storage.current_generation(root)).reader() as reader:
        assert len(list(reader.lexicon("updated"))) == 5


def test_per_document_readers_remember_missing_columns(search_app, monkeypatch):
    add_note("Sizing journals", "Journals grow with the write load.")
    root = root_of(search_app)
    asked = []
    original = whoosh3.W3PerDocReader.has_column

    def has_column(self, fieldname):
        asked.append(fieldname)
        return original(self, fieldname)

    monkeypatch.setattr(whoosh3.W3PerDocReader, "has_column", has_column)
    with storage.open_generation(root, storage.current_generation(root)).reader() as reader:
        for _ in range(5):
            assert reader.doc_field_length(0, "spell") in (0, None)  # not scorable: no length column
            assert reader.doc_field_length(0, "body") > 0
    assert len(asked) == 2  # once for each field, not once per call
