"""Stored files (case attachments, images): one row per file, the bytes live in the chosen storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.accounts.models import User
from kb.extensions import db
from kb.types import utcnow


class StoredFile(db.Model):
    """A file as uploaded: the name as given, its size and SHA-256, and what it belongs to.

    ``owner_kind`` names the feature that owns it ("case", "comment", "image", ...) and ``owner_id``
    that feature's row; ``owner_id`` is None while an upload is not attached to anything yet.
    """

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)  # generated; never derived from the name
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None]
    internal: Mapped[bool] = mapped_column(default=False)  # staff only, e.g. files on an internal note
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    deleted_by: Mapped[User | None] = relationship(foreign_keys=[deleted_by_id])

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.filename!r} {self.owner_kind}:{self.owner_id}>"


class StoredChunk(db.Model):
    """One piece of a file kept by the database store; ``offset`` is where its bytes start in the file."""

    __tablename__ = "stored_chunks"

    storage_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offset: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
