"""The default store: one file per key in a folder (KB_ATTACHMENT_DIR, else <instance>/attachments)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from kb.uploads.storage import check_key


class FilesystemStorage:
    """Files under ``root/<first two hex digits>/<key>``, written to a temporary name and renamed when complete."""

    def __init__(self, root: str, read_bytes: int):
        self.root = Path(root)
        self.read_bytes = read_bytes

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._path(key)
        handle = path.open("rb")  # opened now, so a missing file fails the request, not the stream

        def pieces() -> Iterator[bytes]:
            with handle:
                handle.seek(start)
                left = end - start
                while left > 0:
                    data = handle.read(min(self.read_bytes, left))
                    if not data:
                        return
                    left -= len(data)
                    yield data

        return pieces()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        """Every key the folder holds (for backups)."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    if not path.name.startswith("."):
                        yield path.name
