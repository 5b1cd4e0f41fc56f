"""store_upload streams, measures and hashes; it refuses empty, oversized and badly named files."""

from __future__ import annotations

import hashlib
import io

import pytest

from kb.extensions import db
from kb.uploads.models import StoredFile
from kb.uploads.service import UploadError, store_upload
from kb.uploads.storage import storage_for


class CountingStream(io.BytesIO):
    """Remembers the largest read, to show the service reads in bounded pieces."""

    largest = 0

    def read(self, size=-1):
        assert size is not None and size > 0, "the whole file was asked for at once"
        CountingStream.largest = max(CountingStream.largest, size)
        return super().read(size)


def test_store_upload_records_size_hash_and_owner(app, backend, customer):
    data = b"log line\n" * 5000
    stored = store_upload(CountingStream(data), "harborsync-logs (1).txt", uploader=customer, owner_kind="test",
                          owner_id=7, max_bytes=10**6)
    db.session.commit()
    row = db.session.get(StoredFile, stored.id)
    assert (row.filename, row.size, row.sha256) == ("harborsync-logs (1).txt", len(data), hashlib.sha256(data).hexdigest())
    assert (row.owner_kind, row.owner_id, row.uploaded_by_id, row.internal) == ("test", 7, customer.id, False)
    assert row.storage_key not in row.filename and len(row.storage_key) == 32
    assert b"".join(storage_for().open_range(row.storage_key, 0, row.size)) == data
    assert CountingStream.largest <= app.config["ATTACHMENT_CHUNK_BYTES"]


def test_png_is_recognised_by_its_bytes_not_its_name(app, customer):
    stored = store_upload(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), "screen.txt", uploader=customer,
                          owner_kind="test", max_bytes=1000)
    assert stored.content_type == "image/png"
    other = store_upload(io.BytesIO(b"<html><script>alert(1)</script>"), "page.png", uploader=customer,
                         owner_kind="test", max_bytes=1000, content_type="image/png")
    assert other.content_type == "image/png"  # the claim is kept as information; downloads sniff again


@pytest.mark.parametrize("name", ["../etc/passwd", "logs/a.txt", "C:\\Users\\a.txt", "..", "bad\x00name", "tab\tname",
                                  "exe\u202etxt.exe", "", "   "])
def test_bad_names_are_refused_with_400(app, backend, customer, name):
    with pytest.raises(UploadError) as refused:
        store_upload(io.BytesIO(b"data"), name, uploader=customer, owner_kind="test", max_bytes=100)
    assert refused.value.status == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == 0


def test_overlong_name_is_refused(app, customer):
    app.config["ATTACHMENT_NAME_MAX_LENGTH"] = 20
    with pytest.raises(UploadError, match="longer than 20 characters"):
        store_upload(io.BytesIO(b"data"), "a" * 21 + ".txt", uploader=customer, owner_kind="test", max_bytes=100)


def test_names_are_stored_as_given(app, customer):
    name = "Relatório <final> \"v2\" ☃.tar.gz"
    stored = store_upload(io.BytesIO(b"data"), name, uploader=customer, owner_kind="test", max_bytes=100)
    assert stored.filename == name


def test_empty_file_is_refused_and_leaves_nothing(app, backend, customer):
    with pytest.raises(UploadError, match="empty") as refused:
        store_upload(io.BytesIO(b""), "empty.log", uploader=customer, owner_kind="test", max_bytes=100)
    assert refused.value.status == 400
    db.session.commit()
    assert _stored_bytes(app, backend) == 0


def test_file_over_the_limit_is_413_and_leaves_nothing(app, backend, customer):
    with pytest.raises(UploadError, match="larger than the limit") as refused:
        store_upload(io.BytesIO(b"x" * 10_001), "big.log", uploader=customer, owner_kind="test", max_bytes=10_000)
    assert refused.value.status == 413
    db.session.commit()
    assert _stored_bytes(app, backend) == 0


def test_file_exactly_at_the_limit_is_taken(app, customer):
    stored = store_upload(io.BytesIO(b"x" * 10_000), "edge.log", uploader=customer, owner_kind="test", max_bytes=10_000)
    assert stored.size == 10_000


def _stored_bytes(app, backend) -> int:
    from pathlib import Path

    from kb.uploads.models import StoredChunk

    if backend == "database":
        return db.session.scalar(db.select(db.func.count()).select_from(StoredChunk))
    return sum(p.stat().st_size for p in Path(app.config["ATTACHMENT_DIR"]).rglob("*") if p.is_file())
