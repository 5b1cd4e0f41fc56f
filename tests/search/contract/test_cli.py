"""`kb reindex`, `kb search-check`, the init step and the health check, for every engine."""

from __future__ import annotations

from flask_login import AnonymousUserMixin
from sqlalchemy import text

from kb.extensions import db
from kb.hooks import health_checks, init_steps
from kb.search import indexing, search
from tests.search import notes
from tests.search.notes import add_note

ANON = AnonymousUserMixin()


def sneak_into_database(title: str) -> None:
    """Insert a row behind the outbox's back, as an old import or a crash between commit and drain would."""
    db.session.execute(text("INSERT INTO search_test_notes (title, body, headings, tags, category, article_type, "
                            "versions, visibility, published, updated) VALUES (:t, '', '', '', '', '', '', 'public', "
                            "TRUE, '2026-01-01 00:00:00')"), {"t": title})
    db.session.commit()


def test_updates_during_a_rebuild_are_not_lost(search_app):
    add_note("Sizing journals")
    original_build = notes.build
    state = {"done": False}

    def build_then_write(ids):
        docs = original_build(ids)
        if not state["done"]:
            state["done"] = True
            with search_app.app_context():  # another request commits while the rebuild runs
                add_note("Written during the rebuild: emu")
        return docs

    search_app.extensions["kb_search"].kinds["note"].build = build_then_write
    indexing.rebuild(search_app)
    search_app.extensions["kb_search"].kinds["note"].build = original_build
    assert search("emu", ANON).total == 1
    assert indexing.check(search_app).ok


def test_search_check_reports_drift_and_exits_non_zero(search_app, runner):
    add_note("Sizing journals")
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 0 and "matches" in result.output
    sneak_into_database("Hidden platypus")
    db.session.execute(text("UPDATE search_test_notes SET title = 'Renamed quietly' WHERE id = 1"))
    db.session.commit()
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 1
    assert "missing (1): note:2" in result.output and "stale (1): note:1" in result.output
    db.session.execute(text("DELETE FROM search_test_notes"))
    db.session.commit()
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 1 and "extra (1): note:1" in result.output


def test_init_step_builds_a_missing_index(search_app):
    sneak_into_database("Platypus from an old import")
    steps = dict(init_steps(search_app))
    assert "Indexed 1 documents." == steps["Building the search index"]()
    assert search("platypus", ANON).total == 1
    assert "The index is in place" in steps["Building the search index"]()


def test_health_check(search_app, client):
    health_checks(search_app)["search"]()
    data = client.get("/healthz").get_json()
    assert data["checks"]["search"] == "ok"


def test_reindex_reports_progress_and_search_check_agrees(search_app, runner):
    for i in range(3):
        add_note(f"Pelican {i}")
    sneak_into_database("Pelican from an old import")
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed 4 documents" in result.output
    assert search("pelican", ANON).total == 4
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 0 and "4 documents expected, 4 in the index" in result.output
