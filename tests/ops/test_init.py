"""``kb init``: missing content files are notes, broken ones are errors; two hosts at once take turns."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from kb import create_app
from kb.extensions import db
from kb.ops.locking import SCHEMA_LOCK, advisory_lock, lock_key
from tests.conftest import POSTGRES_URL


def _init(tmp_path, content_dir, name="init"):
    """Run ``kb init`` on a fresh SQLite database (the shared fixtures build their schema without migrations)."""
    app = create_app(
        {"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / f'{name}.sqlite3'}",
         "INDEX_DIR": str(tmp_path / f"{name}-index"), "CONTENT_DIR": str(content_dir)},
        instance_path=str(tmp_path / name),
    )
    result = app.test_cli_runner().invoke(args=["init"])
    with app.app_context():
        db.engine.dispose()
    return result


def test_init_without_categories_or_forums_files_says_what_they_hold_and_succeeds(tmp_path):
    (tmp_path / "content").mkdir()
    result = _init(tmp_path, tmp_path / "content")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "No categories.yml in" in result.output and "name, slug, description and position" in result.output
    assert "No forum categories file at" in result.output and "a list under 'categories:'" in result.output
    assert "The site is ready." in result.output


@pytest.mark.parametrize(
    "forums_yml, message",
    [
        ("categories: [{name: Only a name}]\n", "each category needs a name and a slug"),
        ("categories: [unclosed\n", "forums.yml"),
    ],
)
def test_a_broken_forums_file_is_an_error_with_a_reason_not_a_traceback(tmp_path, forums_yml, message):
    content = tmp_path / "content"
    content.mkdir()
    (content / "forums.yml").write_text(forums_yml)
    result = _init(tmp_path, content)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert "Building the search index" in result.output  # the other steps still ran
    assert "1 problem(s) to fix" in result.stderr


def test_a_content_folder_that_does_not_exist_is_an_error(tmp_path):
    result = _init(tmp_path, tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "the content folder does not exist" in result.stderr


def test_the_bundled_content_initialises_twice_without_changes(tmp_path):
    from kb import ROOT

    first = _init(tmp_path, ROOT / "content")
    assert first.exit_code == 0, first.output
    second = _init(tmp_path, ROOT / "content")
    assert second.exit_code == 0, second.output
    assert "0 forum categories created" in second.output


def test_the_lock_is_a_no_op_on_sqlite_and_reentrant(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with advisory_lock(engine, SCHEMA_LOCK, 1), advisory_lock(engine, SCHEMA_LOCK, 1):
        pass


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES_URL, reason="advisory locks are PostgreSQL's (set KB_TEST_DATABASE_URL)")
def test_two_hosts_running_init_at_once_take_turns(tmp_path):
    schema = "kb_init_lock_test"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = POSTGRES_URL + ("&" if "?" in POSTGRES_URL else "?") + f"options=-csearch_path%3D{schema}"
    holder = admin.connect()
    try:
        # Another host is busy: both of these must wait for it, then one migrates and the other finds nothing to do.
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(SCHEMA_LOCK)})
        env = {**os.environ, "KB_ENV": "testing", "KB_SECRET_KEY": "t", "KB_DATABASE_URL": url}
        hosts = [
            subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "kb"), "init"],
                env={**env, "KB_INDEX_DIR": str(tmp_path / f"index{n}"), "KB_INSTANCE_PATH": str(tmp_path / f"host{n}")},
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for n in range(2)
        ]
        time.sleep(8)
        assert all(host.poll() is None for host in hosts), "kb init did not wait for the lock"
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(SCHEMA_LOCK)})
        outputs = [host.communicate(timeout=240)[0] for host in hosts]
    finally:
        holder.close()
    try:
        for host, output in zip(hosts, outputs):
            assert host.returncode == 0, output[-3000:]
            assert "waiting for it to finish" in output
            assert "The site is ready." in output
        assert sum("Running upgrade" in output for output in outputs) == 1
        assert sum("0 forum categories created" in output for output in outputs) == 1
        with admin.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {schema}.alembic_version")).scalar() == 1
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
