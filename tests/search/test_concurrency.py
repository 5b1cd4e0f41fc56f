"""Several OS processes write at once; afterwards the index matches the database exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from kb.extensions import db
from kb.search import check, search
from kb.search.indexing import pending_count
from tests.search.notes import Note

WORKERS = 4
NOTES_EACH = 25


@pytest.mark.slow
def test_concurrent_writer_processes_lose_no_update(search_app, app_config):
    db.session.commit()
    script = Path(__file__).with_name("writer_proc.py")
    procs = [
        subprocess.Popen([sys.executable, str(script), app_config["DATABASE_URL"], app_config["INDEX_DIR"],
                          str(worker), str(NOTES_EACH)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for worker in range(WORKERS)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
        assert "LockError" not in err and "Traceback" not in err, err[-3000:]
    # Every committed change was drained by the writers themselves: nothing waits in the outbox.
    assert pending_count() == 0
    report = check()
    assert report.ok, report.lines()
    expected = {n.title for n in db.session.scalars(select(Note))}
    found = search("pelican", AnonymousUserMixin(), per_page=50)
    assert found.total == len(expected)
    pages = [found] + [search("pelican", AnonymousUserMixin(), per_page=50, page=p) for p in range(2, found.pages + 1)]
    assert {hit.title for r in pages for hit in r.results} == expected
