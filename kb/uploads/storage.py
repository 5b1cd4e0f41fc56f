"""Where stored files' bytes live, behind one small interface chosen by KB_ATTACHMENT_STORAGE."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Protocol

from flask import Flask, current_app

from kb.config import ConfigError

_KEY = re.compile(r"[0-9a-f]{32}")


class Storage(Protocol):
    """Bytes by key. Each call streams: no method holds a whole file in memory."""

    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        """Write the file from ``chunks``; if reading them raises, nothing is left behind under ``key``."""

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Yield the bytes from offset ``start`` (inclusive) to ``end`` (exclusive), a piece at a time."""

    def delete(self, key: str) -> None:
        """Forget the file; deleting a missing key is not an error."""

    def exists(self, key: str) -> bool:
        """Whether the store holds a file under ``key``."""


def new_key() -> str:
    """A random storage key: 128 bits of hex, so a key says nothing about the file and is safe as a path."""
    return secrets.token_hex(16)


def check_key(key: str) -> str:
    """Refuse anything but a key from new_key(), so no key can reach outside the store."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def storage_for(app: Flask | None = None) -> Storage:
    """The store this site is configured with (``filesystem`` or ``database``)."""
    app = app or current_app
    kind = app.config["ATTACHMENT_STORAGE"]
    if kind == "filesystem":
        from kb.uploads.filesystem import FilesystemStorage

        return FilesystemStorage(app.config["ATTACHMENT_DIR"], app.config["ATTACHMENT_CHUNK_BYTES"])
    if kind == "database":
        from kb.uploads.dbstore import DatabaseStorage

        return DatabaseStorage(app.config["ATTACHMENT_CHUNK_BYTES"])
    raise ConfigError(f"KB_ATTACHMENT_STORAGE must be filesystem or database, not {kind!r}.")
