"""The store for several hosts: files as chunked rows in the site's database (SQLite or PostgreSQL).

Chunks are written in the caller's transaction, so a file and its row commit (or roll back) together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import delete, insert, select

from kb.extensions import db
from kb.uploads.models import StoredChunk
from kb.uploads.storage import check_key


def rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in pieces of exactly ``size`` (the last may be shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


class DatabaseStorage:
    """Rows of ``stored_chunks``, ``chunk_bytes`` each; inserted with Core so the session keeps no copy."""

    def __init__(self, chunk_bytes: int):
        self.chunk_bytes = chunk_bytes

    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        check_key(key)
        offset = 0
        try:
            for seq, piece in enumerate(rechunk(chunks, self.chunk_bytes)):
                db.session.execute(insert(StoredChunk).values(storage_key=key, seq=seq, offset=offset, data=piece))
                offset += len(piece)
        except BaseException:
            self.delete(key)
            raise

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        check_key(key)
        first = db.session.execute(
            select(StoredChunk.seq, StoredChunk.offset).where(StoredChunk.storage_key == key, StoredChunk.offset <= start)
            .order_by(StoredChunk.offset.desc()).limit(1)
        ).first()
        if first is None:
            raise FileNotFoundError(key)

        def pieces() -> Iterator[bytes]:
            seq, position = first
            while position < end:  # one row at a time: a 200 MiB file never sits in memory
                data = db.session.scalar(
                    select(StoredChunk.data).where(StoredChunk.storage_key == key, StoredChunk.seq == seq)
                )
                if data is None:
                    return
                data = bytes(data)
                piece = data[max(start - position, 0): end - position]
                if piece:
                    yield piece
                position += len(data)
                seq += 1

        return pieces()

    def delete(self, key: str) -> None:
        check_key(key)
        db.session.execute(delete(StoredChunk).where(StoredChunk.storage_key == key))

    def exists(self, key: str) -> bool:
        check_key(key)
        return db.session.scalar(select(StoredChunk.seq).where(StoredChunk.storage_key == key).limit(1)) is not None
