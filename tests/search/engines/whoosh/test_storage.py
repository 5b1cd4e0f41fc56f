"""The Whoosh engine's index on disk: generations swapped in by `kb reindex`, one searcher per
process, and a writer held by another process."""

from __future__ import annotations

from pathlib import Path

from flask_login import AnonymousUserMixin
from whoosh import index as windex

from kb.search import indexing, search
from kb.search.engines.whoosh import searchers, storage
from tests.search import notes
from tests.search.contract.test_cli import sneak_into_database
from tests.search.notes import add_note

ANON = AnonymousUserMixin()


def generations(app) -> list[str]:
    return sorted(p.name for p in Path(app.config["INDEX_DIR"]).iterdir() if p.name.startswith("gen-"))


def test_reindex_builds_a_new_generation_and_swaps_it_in(search_app, runner):
    add_note("Sizing journals")
    sneak_into_database("Hidden platypus")
    assert search("platypus", ANON).total == 0
    first = generations(search_app)
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents" in result.output and "Indexing documents" in result.output
    assert search("platypus", ANON).total == 1
    second = generations(search_app)
    assert len(second) == 2 and first[0] in second
    runner.invoke(args=["reindex"])
    third = generations(search_app)
    assert len(third) == 2 and first[0] not in third  # older generations are cleaned up


def test_a_crash_mid_rebuild_leaves_the_old_index_serving(search_app, runner):
    add_note("Sizing journals")
    before = storage.current_generation(Path(search_app.config["INDEX_DIR"]))

    def explode(ids):
        raise RuntimeError("database went away mid-rebuild")

    search_app.extensions["kb_search"].kinds["note"].build = explode
    result = runner.invoke(args=["reindex"])
    assert result.exit_code != 0
    assert storage.current_generation(Path(search_app.config["INDEX_DIR"])) == before
    assert generations(search_app) == [before]
    search_app.extensions["kb_search"].kinds["note"].build = notes.build
    assert search("journals", ANON).total == 1


def test_one_searcher_per_process_refreshed_not_reopened(search_app, client):
    add_note("Sizing journals")
    client.get("/search?q=journals")
    opened = searchers.searcher_opened_count()
    for _ in range(20):
        assert client.get("/search?q=journals").status_code == 200
    assert searchers.searcher_opened_count() == opened


def test_a_process_without_the_writer_leaves_rows_for_the_holder(search_app):
    root = Path(search_app.config["INDEX_DIR"])
    storage.ensure_index(root)
    holder = windex.open_dir(str(root / storage.current_generation(root))).writer()
    try:
        add_note("Waiting platypus")  # commit succeeds; the drain cannot get the writer and leaves the row
        assert indexing.pending_count() == 1
        assert search("platypus", ANON).total == 0
    finally:
        holder.cancel()
    assert indexing.drain(search_app) == 1
    assert indexing.pending_count() == 0
    assert search("platypus", ANON).total == 1
