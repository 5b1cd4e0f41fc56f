"""SQLite as a real embedded database: WAL, a busy timeout and foreign keys on every connection."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from kb.extensions import db


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_sqlite(app: Flask) -> None:
    """Several gunicorn workers and the worker write at once: readers never block the writer (WAL),
    a writer waits its turn for KB_SQLITE_BUSY_TIMEOUT_MS instead of failing with "database is locked"."""
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        return
    timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        engine: Engine = db.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a power cut loses at most the last commits
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
