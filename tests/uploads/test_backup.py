"""Backups carry stored files: in the instance folder, in a folder of their own, or as database rows."""

from __future__ import annotations

import io
import json

import pytest

from kb import create_app
from kb.extensions import db
from kb.ops import backup as backups
from kb.uploads.models import StoredFile
from kb.uploads.service import store_upload
from kb.uploads.storage import storage_for
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="kb restore restores SQLite; PostgreSQL uses pg_dump")


@pytest.mark.parametrize("where", ["instance", "own-folder", "database"])
def test_stored_files_survive_backup_and_restore(tmp_path, customer, app_config, where):
    """The bytes of a stored file come back in a fresh instance, wherever the store kept them."""
    def site(name):
        config = dict(app_config, DATABASE_URL=f"sqlite:///{tmp_path / name / 'kb.sqlite3'}")
        if where == "own-folder":
            config["ATTACHMENT_DIR"] = str(tmp_path / f"{name}-files")
        if where == "database":
            config["ATTACHMENT_STORAGE"] = "database"
        return create_app(config, instance_path=str(tmp_path / name))

    data = b"appliance log line\n" * 3000
    source = site("old")
    with source.app_context():
        db.create_all()
        stored = store_upload(io.BytesIO(data), "bundle.zip", uploader=None, owner_kind="case", owner_id=1,
                              max_bytes=10**6)
        db.session.commit()
        key = stored.storage_key
        report = backups.backup(source, tmp_path / "backup")
        db.engine.dispose()
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    if where == "own-folder":
        assert report.attachments == [f"{key[:2]}/{key}"] and manifest["attachments"] == report.attachments
    elif where == "instance":
        assert f"attachments/{key[:2]}/{key}" in manifest["files"]
    else:
        assert report.attachments == [] and not any(key in name for name in manifest["files"])

    target = site("new")
    with target.app_context():
        backups.restore(target, tmp_path / "backup")
        row = db.session.scalar(db.select(StoredFile))
        assert row.storage_key == key
        assert b"".join(storage_for().open_range(key, 0, row.size)) == data
        db.engine.dispose()
