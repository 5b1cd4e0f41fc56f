"""Both storage backends keep and return the exact bytes, in ranges, and forget them on delete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb import create_app
from kb.config import ConfigError
from kb.extensions import db
from kb.uploads.storage import new_key, storage_for


def test_round_trip_ranges_and_delete(app, backend):
    storage = storage_for(app)
    data = os.urandom(4096 * 3 + 100)
    key = new_key()
    storage.save(key, [data[:1000], data[1000:9000], data[9000:]])
    db.session.commit()
    assert storage.exists(key)
    assert b"".join(storage.open_range(key, 0, len(data))) == data
    for start, end in [(0, 1), (4095, 4097), (5000, 12000), (len(data) - 1, len(data)), (4096, 8192)]:
        assert b"".join(storage.open_range(key, start, end)) == data[start:end]
    storage.delete(key)
    db.session.commit()
    assert not storage.exists(key)
    storage.delete(key)  # twice is fine


def test_failed_save_leaves_nothing(app, backend):
    storage = storage_for(app)
    key = new_key()

    def broken():
        yield b"x" * 10_000
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        storage.save(key, broken())
    assert not storage.exists(key)
    if backend == "filesystem":
        assert [p for p in Path(app.config["ATTACHMENT_DIR"]).rglob("*") if p.is_file()] == []


def test_missing_key_is_file_not_found(app, backend):
    with pytest.raises(FileNotFoundError):
        list(storage_for(app).open_range(new_key(), 0, 10))


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "", "0" * 31])
def test_keys_are_never_paths(app, backend, key):
    with pytest.raises(ValueError):
        storage_for(app).exists(key)


def test_filesystem_folder_is_in_the_instance_by_default(app):
    assert app.config["ATTACHMENT_DIR"] == os.path.join(app.instance_path, "attachments")


def test_unknown_storage_is_refused_at_start(app_config, tmp_path):
    app_config["ATTACHMENT_STORAGE"] = "s3"
    with pytest.raises(ConfigError, match="KB_ATTACHMENT_STORAGE"):
        create_app(app_config, instance_path=str(tmp_path / "other"))
