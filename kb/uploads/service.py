"""Taking an upload into storage: streamed in chunks, measured and hashed on the way, checked first."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO

from flask import current_app

from kb.extensions import db
from kb.types import utcnow
from kb.uploads.models import StoredFile
from kb.uploads.storage import new_key, storage_for

# Bidirectional overrides and isolates make "gpj.exe" show as "exe.jpg"; they are refused with control characters.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")

# The only kinds of file a browser may show inline, by the bytes they start with (never by name or claim).
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class UploadError(ValueError):
    """An upload the site refuses; ``status`` is the HTTP status to answer with (400 or 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def sniff_image(head: bytes) -> str | None:
    """The image type (PNG, JPEG, GIF, WebP) the first bytes of a file show, or None for anything else."""
    for magic, kind in IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_filename(filename: str | None) -> str:
    """The name as given, or UploadError (400) for an empty name, path parts or control characters."""
    name = filename or ""
    limit = current_app.config["ATTACHMENT_NAME_MAX_LENGTH"]
    if not name.strip():
        raise UploadError("A file has no name. Give it a name and try again.")
    if len(name) > limit:
        raise UploadError(f"The file name “{name[:40]}…” is longer than {limit} characters. Rename the file and try again.")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise UploadError(f"The file name “{name}” contains a folder path. Send the file under its own name only.")
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in name):
        raise UploadError("A file name contains control characters. Rename the file and try again.")
    return name


def _declared_type(filename: str, declared: str | None) -> str:
    """What the file says it is (the sender's type, else one guessed from the name); kept for information only."""
    for candidate in ((declared or "").split(";")[0].strip().lower(), mimetypes.guess_type(filename)[0] or ""):
        if _CONTENT_TYPE.fullmatch(candidate):
            return candidate
    return "application/octet-stream"


def store_upload(stream: BinaryIO, filename: str | None, *, uploader, owner_kind: str, owner_id: int | None = None,
                 internal: bool = False, max_bytes: int, content_type: str | None = None) -> StoredFile:
    """Stream ``stream`` into storage and add its StoredFile row to the session (the caller commits).

    Refuses (UploadError) a bad name (400), an empty file (400) and one over ``max_bytes`` (413);
    a refused upload leaves nothing in storage.
    """
    name = check_filename(filename)
    digest = hashlib.sha256()
    measured = {"size": 0, "head": b""}
    read_bytes = current_app.config["ATTACHMENT_CHUNK_BYTES"]

    def chunks() -> Iterator[bytes]:
        while True:
            data = stream.read(read_bytes)
            if not data:
                break
            measured["size"] += len(data)
            if measured["size"] > max_bytes:
                raise UploadError(f"“{name}” is larger than the limit of {human_size(max_bytes)}.", 413)
            if len(measured["head"]) < 16:
                measured["head"] += data[:16]
            digest.update(data)
            yield data
        if measured["size"] == 0:
            raise UploadError(f"“{name}” is empty. Choose the file again, or a different one.")

    key = new_key()
    storage_for().save(key, chunks())
    stored = StoredFile(
        storage_key=key,
        filename=name,
        content_type=sniff_image(measured["head"]) or _declared_type(name, content_type),
        size=measured["size"],
        sha256=digest.hexdigest(),
        uploaded_by_id=getattr(uploader, "id", None),
        owner_kind=owner_kind,
        owner_id=owner_id,
        internal=internal,
    )
    db.session.add(stored)
    return stored


def attach(stored: StoredFile, owner_kind: str, owner_id: int, *, internal: bool | None = None) -> None:
    """Give an upload its owner (e.g. the comment created after the files were taken)."""
    stored.owner_kind = owner_kind
    stored.owner_id = owner_id
    if internal is not None:
        stored.internal = internal


def delete_file(stored: StoredFile, by) -> None:
    """Mark a file deleted (who and when stay on the row) and remove its bytes from storage."""
    stored.deleted_at = utcnow()
    stored.deleted_by_id = getattr(by, "id", None)
    storage_for().delete(stored.storage_key)


def purge(stored: StoredFile) -> None:
    """Remove a file and its row entirely (pruning)."""
    storage_for().delete(stored.storage_key)
    db.session.delete(stored)


def prune_orphans(now=None) -> list[str]:
    """Remove uploads never given an owner (an abandoned draft's) older than ATTACHMENT_ORPHAN_HOURS."""
    cutoff = (now or utcnow()) - timedelta(hours=int(current_app.config["ATTACHMENT_ORPHAN_HOURS"]))
    removed = []
    for stored in db.session.scalars(db.select(StoredFile).where(StoredFile.owner_id.is_(None),
                                                                StoredFile.created_at < cutoff).order_by(StoredFile.id)).all():
        removed.append(f"unattached upload: {stored.filename} ({human_size(stored.size)})")
        purge(stored)
    return removed


def files_of(owner_kind: str, owner_ids) -> list[StoredFile]:
    """The live files of these owners, oldest first."""
    ids = list(owner_ids)
    if not ids:
        return []
    return list(db.session.scalars(
        db.select(StoredFile).where(StoredFile.owner_kind == owner_kind, StoredFile.owner_id.in_(ids),
                                    StoredFile.deleted_at.is_(None)).order_by(StoredFile.id)
    ))


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB': sizes as people read them."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    return f"{size} bytes"
