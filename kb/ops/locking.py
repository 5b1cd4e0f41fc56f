"""One host at a time: a PostgreSQL advisory lock around ``kb init`` and migrations.

Several web hosts may run ``kb init`` at the same moment (a deploy script on each). The first takes
the lock and does the work; the others wait for it, then find nothing left to do. The lock is
re-entrant within a process, so ``kb init`` holding it can run the migrations that also take it.
SQLite lives on one host and needs no lock.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

SCHEMA_LOCK = "schema"  # kb init and every migration run
_held: dict[str, int] = {}


class LockTimeout(RuntimeError):
    """Another process held the lock for longer than we were willing to wait."""


def lock_key(name: str) -> int:
    """A stable 32-bit key per lock name (pg_advisory_lock takes a bigint)."""
    return zlib.crc32(f"kb:{name}".encode())


@contextmanager
def advisory_lock(engine: Engine, name: str, timeout: float, on_wait: Callable[[], None] | None = None,
                  poll: float = 0.5) -> Iterator[None]:
    """Hold the named lock on its own connection for the duration; no-op on databases other than PostgreSQL."""
    if engine.dialect.name != "postgresql" or _held.get(name):
        _held[name] = _held.get(name, 0) + 1
        try:
            yield
        finally:
            _held[name] -= 1
        return
    key = lock_key(name)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + timeout
        waited = False
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if time.monotonic() >= deadline:
                raise LockTimeout(f"another process held the {name!r} lock for more than {timeout:g} seconds")
            time.sleep(poll)
        _held[name] = 1
        try:
            yield
        finally:
            _held[name] = 0
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
