"""The attachment settings: defaults, KB_* environment values, and start-up refusals of bad values."""

from __future__ import annotations

import pytest

from kb import create_app
from kb.config import ConfigError


def test_defaults(app):
    assert app.config["ATTACHMENT_STORAGE"] == "filesystem"
    assert app.config["ATTACHMENT_MAX_BYTES"] == 512 * 1024 * 1024
    assert app.config["ATTACHMENT_MAX_FILES"] == 10
    assert app.config["ATTACHMENT_CASE_MAX_BYTES"] == 4 * 1024 ** 3
    assert app.config["ATTACHMENT_RETENTION_DAYS"] is None
    assert app.config["MAILIN_MAX_BYTES"] == 25 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024  # the site-wide cap is untouched


def test_environment_wins(monkeypatch, app_config, tmp_path):
    monkeypatch.setenv("KB_ATTACHMENT_STORAGE", "database")
    monkeypatch.setenv("KB_ATTACHMENT_MAX_BYTES", "1048576")
    monkeypatch.setenv("KB_ATTACHMENT_RETENTION_DAYS", "30")
    monkeypatch.setenv("KB_ATTACHMENT_DIR", str(tmp_path / "files"))
    app = create_app(app_config, instance_path=str(tmp_path / "env"))
    assert app.config["ATTACHMENT_STORAGE"] == "database"
    assert app.config["ATTACHMENT_MAX_BYTES"] == 1048576
    assert app.config["ATTACHMENT_RETENTION_DAYS"] == 30
    assert app.config["ATTACHMENT_DIR"] == str(tmp_path / "files")


@pytest.mark.parametrize("key, value, message", [
    ("ATTACHMENT_MAX_BYTES", 0, "KB_ATTACHMENT_MAX_BYTES"),
    ("ATTACHMENT_MAX_BYTES", "lots", "KB_ATTACHMENT_MAX_BYTES"),
    ("ATTACHMENT_RETENTION_DAYS", -1, "KB_ATTACHMENT_RETENTION_DAYS"),
    ("ATTACHMENT_CHUNK_BYTES", 10, "KB_ATTACHMENT_CHUNK_BYTES"),
    ("ATTACHMENT_ORPHAN_HOURS", 0, "KB_ATTACHMENT_ORPHAN_HOURS"),
])
def test_bad_values_stop_the_start(app_config, tmp_path, key, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app({**app_config, key: value}, instance_path=str(tmp_path / "bad"))


def test_chunk_size_bounds_each_database_row(app, app_config, tmp_path):
    import io

    from kb.extensions import db
    from kb.uploads.models import StoredChunk
    from kb.uploads.service import store_upload

    app = create_app({**app_config, "ATTACHMENT_STORAGE": "database", "ATTACHMENT_CHUNK_BYTES": 4096},
                     instance_path=str(tmp_path / "chunks"))
    with app.app_context():
        store_upload(io.BytesIO(b"x" * 10_000), "a.log", uploader=None, owner_kind="case", max_bytes=10**6)
        db.session.commit()
        sizes = [len(row.data) for row in db.session.scalars(db.select(StoredChunk).order_by(StoredChunk.seq))]
        assert sizes == [4096, 4096, 1808]
        db.session.execute(db.delete(StoredChunk))
        db.session.commit()
        db.engine.dispose()
