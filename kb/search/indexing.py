"""Keeping the index in step with the database: document kinds, the outbox, draining, rebuild, check.

Features register a kind with a builder and the models that affect it. Every flush that touches a
watched model writes outbox rows through the flush's own connection, so the rows commit or roll
back with the content. After a commit, whichever process gets the index writer drains the outbox;
one that cannot get it leaves the rows for the holder, which looks again after letting go.
Everything here talks to the index through the engine protocol (kb.search.engine).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, insert

from kb.extensions import db
from kb.search import outbox
from kb.search.documents import SearchDoc, doc_digest, doc_key
from kb.search.engine import engine_for
from kb.search.models import SearchOutbox
from kb.types import utcnow

log = logging.getLogger(__name__)

PENDING = "kb_search_pending"
# Documents changed by a flush, for an engine that writes them in the content's own transaction.
DIRECT = "kb_search_direct"


@dataclass
class Kind:
    name: str
    build: Callable[[list[int]], dict[int, SearchDoc | None]]
    all_ids: Callable[[], Iterable[int]]
    watch: dict


@dataclass
class SearchState:
    kinds: dict[str, Kind] = field(default_factory=dict)
    last_drain_check: float = 0.0


def state(app: Flask) -> SearchState:
    return app.extensions.setdefault("kb_search", SearchState())


def register_kind(app: Flask, kind: str, build, all_ids, watch: dict) -> None:
    """Make a document kind searchable: how to build its documents and which models change them."""
    state(app).kinds[kind] = Kind(kind, build, all_ids, dict(watch or {}))


# --- the outbox, written inside the content's transaction ---------------------------------------

def _affected(kinds: dict[str, Kind], objects) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for obj in objects:
        mro = type(obj).__mro__
        for kind in kinds.values():
            for model, fn in kind.watch.items():
                if model in mro:
                    for doc_id in fn(obj) or ():
                        if doc_id is not None:
                            keys.add((kind.name, int(doc_id)))
    return keys


def _after_flush(session, flush_context) -> None:
    if not has_app_context():
        return
    search_state = current_app.extensions.get("kb_search")
    if search_state is None or not search_state.kinds:
        return
    keys = _affected(search_state.kinds, chain(session.new, session.dirty, session.deleted))
    if not keys:
        return
    if engine_for(current_app._get_current_object()).consumer() is None:
        session.info.setdefault(DIRECT, set()).update(keys)  # written once the flush is complete
        return
    now = utcnow()
    session.connection().execute(
        insert(SearchOutbox.__table__),
        [{"kind": kind, "doc_id": doc_id, "created": now} for kind, doc_id in sorted(keys)],
    )
    session.info[PENDING] = True


def _after_flush_postexec(session, flush_context) -> None:
    keys = session.info.pop(DIRECT, None)
    if keys and has_app_context():
        write_now(current_app._get_current_object(), session, keys)


def write_now(app: Flask, session, keys: set[tuple[str, int]]) -> None:
    """Build the documents and write them through the session's connection, in its transaction:
    they commit or roll back with the content, so every host searches them at once."""
    kinds = state(app).kinds
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, doc_id in keys:
        by_kind[kind].add(int(doc_id))
    docs: list[SearchDoc] = []
    removed: list[tuple[str, int]] = []
    for kind_name, ids in sorted(by_kind.items()):
        ordered = sorted(ids)
        kind = kinds.get(kind_name)
        built = (kind.build(ordered) if kind is not None else None) or {}
        for doc_id in ordered:
            doc = built.get(doc_id)
            if doc is None:
                removed.append((kind_name, doc_id))
            else:
                docs.append(doc)
    engine_for(app).apply(session.connection(), docs, removed)


def _after_commit(session) -> None:
    if not session.info.pop(PENDING, False) or not has_app_context():
        return
    app = current_app._get_current_object()
    try:
        drain(app)
    except Exception:  # the rows stay in the outbox; the next drain applies them
        log.exception("search: could not update the index after a commit; it will catch up")


def _after_rollback(session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(DIRECT, None)


_listening = False


def install_listeners() -> None:
    """Listen once per process on Flask-SQLAlchemy's session class (every app's db.session)."""
    global _listening
    if _listening:
        return
    from flask_sqlalchemy.session import Session

    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _listening = True


# --- draining ---------------------------------------------------------------------------------------

_drain_lock = threading.Lock()


def pending_count(app: Flask | None = None) -> int:
    """Outbox rows the index of this host has not applied yet."""
    app = app or current_app._get_current_object()
    consumer = engine_for(app).consumer()
    return 0 if consumer is None else outbox.pending_count(consumer)


def drain(app: Flask, max_rounds: int = 100) -> int:
    """Apply the outbox rows this host's index has not seen, if this process can get the writer;
    never waits for it. Returns how many documents were (re)indexed or removed."""
    applied = 0
    with app.app_context():
        consumer = engine_for(app).consumer()
        if consumer is None:  # the engine writes with the content's transaction: nothing to drain
            return 0
        for _ in range(max_rounds):
            if not _drain_lock.acquire(blocking=False):
                return applied  # another thread here drains, and looks again after it lets go
            try:
                done, more = _drain_rounds(app, consumer, max_rounds)
                applied += done
            finally:
                _drain_lock.release()
            if not more:
                return applied
    return applied


def _drain_rounds(app: Flask, consumer: str, max_rounds: int) -> tuple[int, bool]:
    """Apply batches of rows; returns (documents applied, whether to look again)."""
    engine = engine_for(app)
    config = app.config
    batch_size = int(config["SEARCH_DRAIN_BATCH"])
    kinds = state(app).kinds
    applied = 0
    for _ in range(max_rounds):
        if not outbox.has_pending(consumer):
            return applied, False
        start = outbox.position(consumer)
        with engine.batch() as batch:
            if batch is None:
                return applied, False  # the holder looks at the outbox again after releasing
            try:
                rows = outbox.rows_after(start, batch_size)
                db.session.rollback()
                applied += _apply(batch, kinds, rows)
            finally:
                db.session.remove()
        reached = outbox.advanced(start, rows, float(config["SEARCH_OUTBOX_GAP_SECONDS"]))
        outbox.move(consumer, reached)
        outbox.prune(float(config["SEARCH_OUTBOX_RETENTION_HOURS"]))
        db.session.commit()
        if reached < rows[-1].id:
            # The missing row may have committed while this process held the index; its own drain
            # then found the index busy and left it to the holder. Look again if it has; if not,
            # whoever commits it drains (the index is free now).
            following = next(row.id for row in rows if row.id > reached)
            return applied, outbox.committed_between(reached, following)
    return applied, True


def _apply(batch, kinds: dict[str, Kind], rows) -> int:
    """Put each row's rebuilt document into the batch, or remove it when its builder says it is gone."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        by_kind[row.kind].add(row.doc_id)
    applied = 0
    for kind_name, ids in by_kind.items():
        ordered = sorted(ids)
        kind = kinds.get(kind_name)
        docs = (kind.build(ordered) if kind is not None else None) or {}
        for doc_id in ordered:
            doc = docs.get(doc_id)
            if doc is None:
                batch.remove(kind_name, doc_id)
            else:
                batch.put(doc)
            applied += 1
    return applied


def drain_if_due(app: Flask) -> None:
    """On a request, apply rows a busy writer left behind, at most every SEARCH_DRAIN_INTERVAL seconds."""
    interval = float(app.config["SEARCH_DRAIN_INTERVAL"])
    search_state = state(app)
    now = time.monotonic()
    if interval <= 0 or now - search_state.last_drain_check < interval:
        return
    search_state.last_drain_check = now
    try:
        consumer = engine_for(app).consumer()
        if consumer is not None and outbox.has_pending(consumer):
            drain(app)
    except Exception:
        log.exception("search: background drain failed; it will be retried")


# --- rebuild and check --------------------------------------------------------------------------

def _all_docs(app: Flask, progress: Callable[[int, int], None] | None) -> Iterator[SearchDoc]:
    """Every document of every kind, built a chunk at a time; ids are read only when the engine
    starts consuming (after it has locked out writers to the index it replaces)."""
    chunk = int(app.config["SEARCH_DRAIN_BATCH"])
    kinds = state(app).kinds
    with app.app_context():
        all_ids = {name: sorted({int(i) for i in kind.all_ids()}) for name, kind in kinds.items()}
        db.session.remove()
    total = sum(len(ids) for ids in all_ids.values())
    done = 0
    if progress:
        progress(0, total)
    for name, ids in all_ids.items():
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            with app.app_context():
                docs = kinds[name].build(part) or {}
                for doc_id in part:
                    doc = docs.get(doc_id)
                    if doc is not None:
                        yield doc
                db.session.remove()
            done += len(part)
            if progress:
                progress(done, total)


def rebuild(app: Flask, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every document of every kind into a fresh index and swap it in; returns the count."""
    engine = engine_for(app)
    count = engine.rebuild(_all_docs(app, progress))
    with app.app_context():
        outbox.rebuilt(engine.consumer())
        db.session.remove()
    log.info("search: rebuilt the index with %d documents", count)
    drain(app)
    return count


@dataclass
class CheckReport:
    """Differences between what the database says should be searchable and what the index holds."""

    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    pending: int = 0
    expected: int = 0
    indexed: int = 0
    index: str = ""  # which index was checked (its outbox cursor's id)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)

    def lines(self) -> list[str]:
        out = [f"{self.expected} documents expected, {self.indexed} in the index, {self.pending} waiting in the outbox."]
        if self.index:
            out.append(f"Checked this host's index ({self.index}).")
        for label, keys in (("missing", self.missing), ("stale", self.stale), ("extra", self.extra)):
            if keys:
                out.append(f"{label} ({len(keys)}): " + ", ".join(keys[:50]) + (" …" if len(keys) > 50 else ""))
        return out


def check(app: Flask) -> CheckReport:
    """Compare each kind's documents built from the database with the index in service."""
    chunk = int(app.config["SEARCH_DRAIN_BATCH"])
    try:
        drain(app)
    except Exception:
        log.exception("search: drain before check failed")
    expected: dict[str, str] = {}
    with app.app_context():
        for name, kind in state(app).kinds.items():
            ids = sorted({int(i) for i in kind.all_ids()})
            for start in range(0, len(ids), chunk):
                part = ids[start:start + chunk]
                docs = kind.build(part) or {}
                for doc_id in part:
                    doc = docs.get(doc_id)
                    if doc is not None:
                        expected[doc_key(name, doc_id)] = doc_digest(doc)
                db.session.remove()
        pending = pending_count(app)
    indexed = engine_for(app).digests()
    report = CheckReport(pending=pending, expected=len(expected), indexed=len(indexed),
                         index=engine_for(app).consumer() or "")
    report.missing = sorted(k for k in expected if k not in indexed)
    report.stale = sorted(k for k in expected if k in indexed and indexed[k] != expected[k])
    report.extra = sorted(k for k in indexed if k not in expected)
    return report
