"""The index follows committed changes only, for any watched model, through the outbox."""

from __future__ import annotations

from flask_login import AnonymousUserMixin

from kb.extensions import db
from kb.search import check, search
from kb.search.indexing import pending_count
from tests.search.notes import Note, NoteComment, add_note

ANON = AnonymousUserMixin()


def titles(query, viewer=ANON, **kw):
    return [hit.title for hit in search(query, viewer, **kw).results]


def test_commit_indexes_and_update_reindexes(search_app):
    note = add_note("Replication appliance runs out of memory", "Swap grows and replication lags.")
    assert titles("appliance memory") == ["Replication appliance runs out of memory"]
    note.title = "Appliance memory exhausted"
    db.session.commit()
    assert titles("exhausted") == ["Appliance memory exhausted"]
    assert titles("runs") == []
    assert pending_count() == 0


def test_rollback_leaves_nothing_behind(search_app):
    db.session.add(Note(title="Rolled back quantum widget", body="never committed"))
    db.session.flush()
    db.session.rollback()
    assert pending_count() == 0
    assert titles("quantum widget") == []


def test_delete_and_unpublish_remove_the_document(search_app):
    keep = add_note("Keep this flamingo note")
    gone = add_note("Delete this flamingo note")
    hidden = add_note("Hide this flamingo note")
    assert len(titles("flamingo")) == 3
    db.session.delete(gone)
    hidden.published = False
    db.session.commit()
    assert titles("flamingo") == [keep.title]
    assert check().ok


def test_change_to_a_related_model_reindexes_the_parent(search_app):
    note = add_note("Failover hangs at boot", "The VM does not start.")
    db.session.add(NoteComment(note_id=note.id, text="Fixed by reordering the xylophone scripts"))
    db.session.commit()
    assert titles("xylophone") == ["Failover hangs at boot"]
    comment = db.session.scalars(db.select(NoteComment)).one()
    comment.hidden = True
    db.session.commit()
    assert titles("xylophone") == []
