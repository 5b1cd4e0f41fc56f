"""``kb backup`` and ``kb restore``: the database and the instance files that cannot be rebuilt.

A backup folder holds ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the
site keeps writing), ``files/`` (the instance folder minus the database and the search index, which
``kb restore`` rebuilds), ``attachments/`` (stored files, when KB_ATTACHMENT_DIR is outside the
instance folder; inside it they are among ``files/``) and ``manifest.json``. Files kept by the database
store are rows of the database. On PostgreSQL only the files are copied: the database is backed up
with ``pg_dump``, which knows its own consistency rules.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from kb.extensions import db
from kb.ops.sqlite import is_sqlite

MANIFEST = "manifest.json"
DATABASE_FILE = "database.sqlite3"
FILES_DIR = "files"
ATTACHMENTS_DIR = "attachments"
FORMAT = 1

Progress = Callable[[int, int], None]


class BackupError(RuntimeError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass
class BackupReport:
    database: str  # "sqlite" or "postgresql"
    files: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    pages: int = 0


def sqlite_path(app: Flask) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]) or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def _skipped(app: Flask) -> set[Path]:
    """What a backup leaves out of the instance folder: the database files and the search index."""
    skip = {Path(app.config["INDEX_DIR"]).resolve()}
    database = sqlite_path(app)
    if database is not None:
        skip |= {database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")}
    return skip


def _stored_file(path: Path) -> bool:
    """Not a half-written upload (the filesystem store writes to a hidden name, then renames)."""
    return path.is_file() and not path.name.startswith(".")


def outside_attachment_dir(app: Flask) -> Path | None:
    """The filesystem store's folder when it is not inside the instance folder (so not among its files)."""
    if app.config.get("ATTACHMENT_STORAGE") != "filesystem" or not app.config.get("ATTACHMENT_DIR"):
        return None
    folder = Path(app.config["ATTACHMENT_DIR"]).resolve()
    root = Path(app.instance_path).resolve()
    return None if folder == root or root in folder.parents else folder


def instance_files(app: Flask) -> list[Path]:
    """Files of the instance folder worth keeping (keys, instance config, stored uploads), sorted."""
    root = Path(app.instance_path).resolve()
    skip = _skipped(app)
    found = []
    for path in sorted(root.rglob("*")):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skip) or not _stored_file(path):
            continue
        found.append(path)
    return found


def backup(app: Flask, dest: Path, progress: Progress | None = None) -> BackupReport:
    """Write a backup into ``dest`` (a new or empty folder)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; give a new folder so no earlier backup is overwritten.")
    dest.mkdir(parents=True, exist_ok=True)
    database = sqlite_path(app)
    report = BackupReport(database="sqlite" if database else db.engine.dialect.name)
    if database is not None:
        report.pages = _copy_sqlite(database, dest / DATABASE_FILE, progress)
    root = Path(app.instance_path).resolve()
    for path in instance_files(app):
        relative = path.resolve().relative_to(root)
        target = dest / FILES_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        report.files.append(str(relative))
    attachments = outside_attachment_dir(app)
    if attachments is not None and attachments.is_dir():
        for path in sorted(attachments.rglob("*")):
            if _stored_file(path):
                relative = path.relative_to(attachments)
                target = dest / ATTACHMENTS_DIR / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                report.attachments.append(str(relative))
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": report.database,
        "files": report.files,
        "attachments": report.attachments,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return report


def _copy_sqlite(source: Path, target: Path, progress: Progress | None, pages_per_step: int = 256) -> int:
    """SQLite's online backup, a few pages at a time so writers are not held up and progress shows."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    total = {"pages": 0}

    def step(status, remaining, count):
        total["pages"] = count
        if progress is not None:
            progress(count - remaining, count)

    try:
        with dst:
            src.backup(dst, pages=pages_per_step, progress=step)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file in the backup folder
    finally:
        dst.close()
        src.close()
    return total["pages"]


def read_manifest(src: Path) -> dict:
    path = Path(src) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} is not a backup made by kb backup (no {MANIFEST}).")
    try:
        manifest = json.loads(path.read_text())
    except ValueError:
        raise BackupError(f"{path} is damaged: not valid JSON.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has format {manifest.get('format')!r}; this version reads format {FORMAT}.")
    return manifest


def restore(app: Flask, src: Path, progress: Progress | None = None) -> list[str]:
    """Put a SQLite backup into an empty instance; returns the instance files restored."""
    src = Path(src)
    manifest = read_manifest(src)
    database = sqlite_path(app)
    if manifest["database"] != "sqlite" or database is None:
        raise BackupError(
            "kb restore puts a SQLite backup into a SQLite instance. For PostgreSQL restore the database "
            "with pg_restore (or psql) and copy the backup's files/ folder into the instance folder."
        )
    if database.exists() and inspect(db.engine).get_table_names():
        raise BackupError(
            f"{database} already holds a site. Restore into an empty instance: point KB_INSTANCE_PATH "
            "(or KB_DATABASE_URL) at a new place, or move the old database away first."
        )
    db.engine.dispose()
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(src / DATABASE_FILE, database, progress)
    root = Path(app.instance_path)
    restored = []
    for relative in manifest["files"]:
        source = src / FILES_DIR / relative
        if not source.is_file():
            raise BackupError(f"{source} is listed in the manifest but missing from the backup.")
        target = (root / relative).resolve()
        if root.resolve() not in target.parents:
            raise BackupError(f"The manifest names {relative!r}, which is outside the instance folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        restored.append(relative)
    folder = Path(app.config["ATTACHMENT_DIR"]).resolve()
    for relative in manifest.get("attachments", []):
        source = src / ATTACHMENTS_DIR / relative
        if not source.is_file():
            raise BackupError(f"{source} is listed in the manifest but missing from the backup.")
        target = (folder / relative).resolve()
        if folder not in target.parents:
            raise BackupError(f"The manifest names {relative!r}, which is outside the attachment folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        restored.append(f"{ATTACHMENTS_DIR}/{relative}")
    return restored
