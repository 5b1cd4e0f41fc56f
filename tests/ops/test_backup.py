"""``kb backup`` / ``kb restore``: a populated site survives being wiped and restored."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from kb import ROOT, create_app
from kb.accounts.models import Plan, Role, User
from kb.accounts.users import create_organization, create_user
from kb.articles.models import Article
from kb.cases.actions import open_case
from kb.cases.models import Case
from kb.extensions import db
from kb.forums.models import ForumCategory, Thread
from kb.forums.threads import create_thread
from kb.search import search
from tests.conftest import PASSWORD, POSTGRES_URL


def _site(tmp_path: Path, database_url: str | None = None):
    return create_app(
        {"ENV": "development", "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'site' / 'kb.sqlite3'}",
         "INDEX_DIR": str(tmp_path / "site" / "search-index"), "CONTENT_DIR": str(ROOT / "content")},
        instance_path=str(tmp_path / "site"),
    )


def _snapshot():
    return {
        "articles": sorted(db.session.scalars(select(Article.slug))),
        "threads": sorted(db.session.scalars(select(Thread.title))),
        "cases": sorted((c.number, c.title) for c in db.session.scalars(select(Case))),
        "users": sorted(db.session.scalars(select(User.email))),
    }


@pytest.mark.slow
@pytest.mark.skipif(bool(POSTGRES_URL), reason="the round trip restores SQLite; PostgreSQL uses pg_dump")
def test_backup_wipe_restore_gives_back_the_same_site_with_a_rebuilt_index(tmp_path):
    app = _site(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        org = create_organization("Acme Corp", Plan("premium"), "UTC")
        customer = create_user("ops@acme.example", PASSWORD, display_name="Acme Ops", role=Role.CUSTOMER, organization=org)
        category = db.session.scalars(select(ForumCategory)).first()
        create_thread(category, customer, "Journal fills up during the nightly backup", "It fills to 100%.")
        db.session.commit()
        open_case(customer, title="Replication stalled at 42%", description="Since the upgrade.", severity=2)
        db.session.commit()
        before = _snapshot()
        db.engine.dispose()
    (tmp_path / "site" / "uploads").mkdir()
    (tmp_path / "site" / "uploads" / "log.txt").write_text("appliance log")
    secret = (tmp_path / "site" / "dev-secret-key").read_text()

    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output and "pages copied" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert "uploads/log.txt" in manifest["files"] and "dev-secret-key" in manifest["files"]
    assert not any(name.startswith(("search-index", "kb.sqlite3")) for name in manifest["files"])

    shutil.rmtree(tmp_path / "site")
    restored = _site(tmp_path)
    result = restored.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt" in result.output
    with restored.app_context():
        assert _snapshot() == before
        assert len(before["articles"]) > 10 and before["cases"] and before["threads"]
        user = db.session.scalar(select(User).where(User.email == "ops@acme.example"))
        assert user.check_password(PASSWORD)
        assert search("journal nightly backup", user).total >= 1
        db.engine.dispose()
    assert (tmp_path / "site" / "uploads" / "log.txt").read_text() == "appliance log"
    assert (tmp_path / "site" / "dev-secret-key").read_text() == secret  # reset links and reply addresses still verify

    again = restored.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert again.exit_code == 1 and "already holds a site" in again.output


def test_backup_refuses_a_folder_that_is_not_empty(app, runner, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text("{}")
    result = runner.invoke(args=["backup", str(tmp_path / "old")])
    assert result.exit_code == 1 and "is not empty" in result.output


def test_restore_refuses_a_folder_that_is_not_a_backup(app, runner, tmp_path):
    (tmp_path / "junk").mkdir()
    result = runner.invoke(args=["restore", str(tmp_path / "junk")])
    assert result.exit_code == 1 and "not a backup made by kb backup" in result.output


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL")
def test_on_postgresql_backup_copies_the_files_and_points_at_pg_dump(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output
    assert not (tmp_path / "b" / "database.sqlite3").exists()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite backup API")
def test_backup_is_consistent_while_another_connection_writes(app, runner, tmp_path, customer):
    writer = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE users SET display_name = 'half-written' WHERE id = ?", (customer.id,))
    result = runner.invoke(args=["backup", str(tmp_path / "b")])  # the uncommitted change must not appear
    writer.rollback()
    writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "b" / "database.sqlite3")
    assert copy.execute("SELECT display_name FROM users WHERE id = ?", (customer.id,)).fetchone() == ("Alice",)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
