"""Several hosts on one database: with Whoosh each has an index of its own and every index sees every
change; with the PostgreSQL engine they share one table and see each change at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from kb.extensions import db
from kb.search import outbox
from kb.search.models import SearchCursor, SearchOutbox
from kb.types import utcnow
from tests.conftest import POSTGRES_URL

SCRIPT = Path(__file__).with_name("host_proc.py")
FRESH_WITHIN = 2.0


class Host:
    def __init__(self, db_url: str, instance: Path, engine: str = "whoosh"):
        instance.mkdir(parents=True)
        self.proc = subprocess.Popen([sys.executable, str(SCRIPT), db_url, str(instance), engine],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self._answer() == {"ready": True}

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(self.proc.stderr.read()[-3000:])
        return json.loads(line)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def found_within(self, word: str, title: str, seconds: float) -> float:
        """Seconds until a search here shows the title (fails after `seconds`)."""
        start = time.monotonic()
        while title not in self.ask(f"find {word}")["titles"]:
            assert time.monotonic() - start < seconds, f"{title!r} not found within {seconds} s"
            time.sleep(0.05)
        return time.monotonic() - start

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def hosts(search_app, app_config, tmp_path):
    db.session.commit()
    started = [Host(app_config["DATABASE_URL"], tmp_path / name) for name in ("host-a", "host-b")]
    yield started
    for host in started:
        host.close()


@pytest.mark.slow
def test_a_change_through_one_host_is_found_through_the_other(hosts):
    a, b = hosts
    note = a.ask("add Kingfisher appliance sizing")
    assert "Kingfisher appliance sizing" in a.ask("find kingfisher")["titles"]
    assert b.found_within("kingfisher", "Kingfisher appliance sizing", FRESH_WITHIN) < FRESH_WITHIN
    b.ask(f"edit {note['id']} Heron appliance sizing")
    assert a.found_within("heron", "Heron appliance sizing", FRESH_WITHIN) < FRESH_WITHIN
    assert a.ask("find kingfisher")["titles"] == [] and b.ask("find kingfisher")["titles"] == []
    for host in (a, b):  # search-check looks at the index of the host it runs on
        report = host.ask("check")
        assert report["ok"], report["lines"]
        assert "0 waiting in the outbox" in report["lines"][0]
    # Both indexes passed every row: only the newest is kept (so SQLite never reuses an id).
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    assert len(db.session.scalars(select(SearchCursor)).all()) == 2


@pytest.fixture
def postgres_hosts(search_app, app_config, tmp_path):
    db.session.commit()
    started = [Host(app_config["DATABASE_URL"], tmp_path / name, "postgres") for name in ("host-a", "host-b")]
    yield started
    for host in started:
        host.close()


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES_URL, reason="needs KB_TEST_DATABASE_URL")
def test_with_the_postgres_engine_a_new_thread_is_found_through_the_other_host_at_once(postgres_hosts):
    a, b = postgres_hosts
    note = a.ask("add Kingfisher appliance sizing")
    # No outbox to drain: the first search through B, right after A committed, finds it.
    assert b.ask("find kingfisher")["titles"] == ["Kingfisher appliance sizing"]
    b.ask(f"edit {note['id']} Heron appliance sizing")
    assert a.ask("find heron")["titles"] == ["Heron appliance sizing"]
    assert a.ask("find kingfisher")["titles"] == [] and b.ask("find kingfisher")["titles"] == []
    for host in (a, b):
        report = host.ask("check")
        assert report["ok"], report["lines"]
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert db.session.scalar(select(func.count()).select_from(SearchCursor)) == 0


def _row(row_id: int, seconds_ago: float):
    return SimpleNamespace(id=row_id, created=utcnow() - timedelta(seconds=seconds_ago))


def test_a_cursor_waits_at_a_young_gap_and_passes_an_old_one():
    rows = [_row(4, 0), _row(5, 0), _row(7, 0), _row(8, 0)]
    assert outbox.advanced(3, rows, gap_seconds=10) == 5  # 6 may still commit
    rows[2] = _row(7, 30)
    assert outbox.advanced(3, rows, gap_seconds=10) == 8  # 6 rolled back long ago
    assert outbox.advanced(3, [], gap_seconds=10) == 3


def test_rows_wait_for_every_live_index_and_go_after_the_retention(search_app):
    now = utcnow()
    db.session.add_all([SearchOutbox(kind="note", doc_id=i, created=now) for i in range(1, 6)])
    db.session.add_all([SearchCursor(index_id="here", position=5, seen=now),
                        SearchCursor(index_id="slow", position=2, seen=now),
                        SearchCursor(index_id="gone", position=0, seen=now - timedelta(hours=500))])
    db.session.commit()
    outbox.prune(retention_hours=168)
    db.session.commit()
    remaining = db.session.scalars(select(SearchOutbox.id).order_by(SearchOutbox.id)).all()
    assert remaining == [3, 4, 5]  # the slow index still needs 3-5; the one gone for weeks holds nothing
    old = SearchOutbox(kind="note", doc_id=9, created=now - timedelta(hours=200))
    db.session.add(old)
    db.session.commit()
    db.session.execute(SearchOutbox.__table__.update().where(SearchOutbox.id == 3)
                       .values(created=now - timedelta(hours=200)))
    outbox.prune(retention_hours=168)
    db.session.commit()
    assert db.session.scalars(select(SearchOutbox.id).order_by(SearchOutbox.id)).all() == [4, 5, old.id]
    assert outbox.out_of_date("gone", 168) and not outbox.out_of_date("slow", 168)


def test_a_gap_that_fills_while_this_process_holds_the_index_is_applied_before_it_lets_go(search_app, monkeypatch):
    """The process that commits the missing row finds the index busy and leaves its row to the
    holder, so the holder must look again rather than wait for a next commit that may never come."""
    from kb.search import indexing
    from kb.search.engine import engine_for
    from tests.search.notes import add_note

    if engine_for(search_app).consumer() is None:
        pytest.skip("this engine writes with the content: there is no outbox to drain")
    early, late = add_note("Kingfisher appliance sizing"), add_note("Heron appliance sizing")
    db.session.commit()
    indexing.drain(search_app)
    start = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    db.session.add(SearchOutbox(id=start + 2, kind="note", doc_id=early.id, created=utcnow()))
    db.session.commit()
    real_apply = indexing._apply

    def apply_while_the_gap_fills(batch, kinds, rows):
        if all(row.id != start + 1 for row in rows):
            with db.engine.begin() as connection:
                connection.execute(SearchOutbox.__table__.insert().values(id=start + 1, kind="note",
                                                                          doc_id=late.id, created=utcnow()))
        return real_apply(batch, kinds, rows)

    monkeypatch.setattr(indexing, "_apply", apply_while_the_gap_fills)
    indexing.drain(search_app)
    assert indexing.pending_count() == 0
