"""SQLite as the embedded default: WAL, busy timeout and foreign keys, and four processes writing at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from kb.extensions import db
from kb.forums.models import ForumCategory, Post, PostLike
from kb.forums.threads import create_thread
from kb.search.models import SearchQuery
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite connection settings")

WRITER = Path(__file__).with_name("sqlite_writer.py")
PROCESSES, ROUNDS = 4, 12


def test_every_connection_uses_wal_a_busy_timeout_and_foreign_keys(app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_busy_timeout_is_a_setting(app_config, tmp_path):
    from kb import create_app

    app_config["SQLITE_BUSY_TIMEOUT_MS"] = 1234
    app = create_app(app_config, instance_path=str(tmp_path / "t"))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        db.engine.dispose()


def test_a_row_pointing_at_nothing_is_refused(app, customer):
    db.session.add(PostLike(post_id=999_999, user_id=customer.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.slow
def test_four_processes_writing_at_once_lose_nothing_and_never_see_a_locked_database(app, app_config, make_user, tmp_path):
    category = ForumCategory(slug="general", name="General", description="", position=1)
    db.session.add(category)
    author = make_user("staff")
    writers = [make_user("customer", email=f"writer{n}@example.com") for n in range(PROCESSES)]
    thread = create_thread(category, author, "Failover questions", "Ask about failover here.")
    targets = [create_thread(category, author, f"Target {n}", "Like me.") for n in range(ROUNDS)]
    db.session.commit()
    post_ids = ",".join(str(t.posts[0].id) for t in targets)
    db.engine.dispose()

    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), app_config["DATABASE_URL"], str(tmp_path / f"w{n}"), w.email,
             str(thread.id), post_ids],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for n, w in enumerate(writers)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0 and output.strip().endswith("ok"), output[-3000:]
        assert "database is locked" not in output

    db.session.expire_all()
    replies = db.session.scalar(select(func.count()).select_from(Post).where(Post.thread_id == thread.id))
    assert replies == 1 + PROCESSES * ROUNDS
    assert db.session.scalar(select(func.count()).select_from(PostLike)) == PROCESSES * ROUNDS
    likes = db.session.scalars(select(Post.like_count).where(Post.id.in_([int(i) for i in post_ids.split(",")])))
    assert set(likes) == {PROCESSES}
    assert db.session.scalar(select(func.count()).select_from(SearchQuery)) == PROCESSES * ROUNDS
    assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
