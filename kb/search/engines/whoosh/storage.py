"""Where the index lives on disk: generations, opening them, and writing to them.

The only module that imports Whoosh's index and writer machinery.

Layout of INDEX_DIR: one sub-directory per index generation (``gen-...``) and a ``CURRENT`` file
naming the one in service. ``rebuild`` writes a new generation and renames a new ``CURRENT`` into
place, so readers switch atomically and a crash mid-rebuild leaves the old index serving.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as windex
from whoosh.writing import LockError

from kb.search.engines.whoosh.schema import make_schema, schema_fingerprint

log = logging.getLogger(__name__)

POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"
WRITELOCK = "WRITELOCK"
# A rebuild starts a new segment once its writer's posting pool reaches this share of its budget; the
# rest is headroom for the document being added, so the pool never spills (see RebuildTarget).
SEGMENT_FILL = 0.85


# --- where the index lives -------------------------------------------------------------------

def index_root(config) -> Path:
    return Path(config["INDEX_DIR"])


def current_generation(root: Path) -> str | None:
    """The generation directory in service, or None when there is no index yet."""
    try:
        name = (root / POINTER).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name.startswith(GENERATION_PREFIX) or "/" in name or not (root / name).is_dir():
        return None
    return name


def _set_current(root: Path, name: str) -> None:
    tmp = root / f".{POINTER}.{os.getpid()}.{uuid.uuid4().hex}"
    with open(tmp, "w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def _flock(path: Path, timeout: float | None = None):
    """An exclusive OS file lock between processes (waits up to timeout; None waits forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"could not lock {path}") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _new_generation(root: Path) -> tuple[str, Path]:
    name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = root / name
    path.mkdir(parents=True)
    return name, path


def ensure_index(root: Path) -> str:
    """Return the generation in service, creating an empty index the first time."""
    name = current_generation(root)
    if name is not None:
        return name
    with _flock(root / ".create.lock"):
        name = current_generation(root)
        if name is None:
            name, path = _new_generation(root)
            windex.create_in(str(path), make_schema())
            _set_current(root, name)
    return name


_indexes: OrderedDict[str, object] = OrderedDict()


def open_generation(root: Path, name: str):
    """The Whoosh index of one generation, kept per process.

    Opening reads the newest table of contents, which a writer in another process may replace at
    that moment; Whoosh's own open does not retry, so this does.
    """
    path = str(root / name)
    ix = _indexes.get(path)
    if ix is None:
        for attempt in range(20):
            try:
                ix = windex.open_dir(path)
                break
            except FileNotFoundError:
                if attempt == 19:
                    raise
                time.sleep(0.01)
        _indexes[path] = ix
        while len(_indexes) > 16:
            _indexes.popitem(last=False)
    return ix


IDENTITY = "INDEX_ID"


def index_identity(root: Path) -> str:
    """This index folder's id for its outbox cursor: made once, kept across rebuilds (generations
    come and go inside the folder), different on every host."""
    path = root / IDENTITY
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{IDENTITY}.{os.getpid()}.{uuid.uuid4().hex}"
    tmp.write_text(f"whoosh-{uuid.uuid4().hex}\n")
    try:
        os.link(tmp, path)  # fails when another process made it first; theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def index_exists(root: Path) -> bool:
    return current_generation(root) is not None


def layout_changed(root: Path) -> bool:
    """Whether the index in service was built with a schema other than today's ``make_schema()``."""
    name = current_generation(root)
    if name is None:
        return False
    return schema_fingerprint(open_generation(root, name).schema) != schema_fingerprint(make_schema())


# --- writing -------------------------------------------------------------------------------------

def try_writer(root: Path, memory_mb: int):
    """The index writer of the generation in service, or None when another process holds it."""
    for _ in range(3):
        name = ensure_index(root)
        ix = open_generation(root, name)
        try:
            writer = ix.writer(limitmb=memory_mb)
        except LockError:
            return None
        if current_generation(root) == name:
            return writer
        # A rebuild swapped generations while we waited: write to the new one instead.
        writer.cancel()
    return None


class RebuildTarget:
    """The new generation a rebuild writes into, one segment at a time.

    Whoosh's writer gathers postings in a pool; once the pool's estimated size passes the writer's
    memory budget it spills them to temporary run files, which commit unpickles and heap-merges,
    and that cost about 40% of a rebuild. So ``add`` commits a segment whenever the pool nears its
    budget and carries on in a fresh writer: each segment's postings are sorted in memory without
    spilling, and memory stays near the budget whatever the size of the corpus. The intermediate
    commits touch only the new generation, which nothing reads before the swap.
    """

    def __init__(self, ix, memory_mb: float):
        self.ix = ix
        self.memory_mb = memory_mb
        self.segments = 0
        self.writer = ix.writer(limitmb=memory_mb)

    def add(self, fields: dict) -> None:
        self.writer.add_document(**fields)
        pool = self.writer.pool
        if pool.currentsize >= pool.limit * SEGMENT_FILL:
            self.finish()
            self.writer = self.ix.writer(limitmb=self.memory_mb)

    def finish(self) -> None:
        """Commit the segment being written, leaving the others as they are (merging would pool again)."""
        if self.writer.doc_count():
            self.segments += 1
        self.writer.commit(merge=False)

    def cancel(self) -> None:
        if not self.writer.is_closed:
            self.writer.cancel()


@contextmanager
def new_generation(root: Path, memory_mb: float, lock_timeout: float):
    """Build a fresh index beside the one in service; on success it replaces it atomically.

    The old generation's writer lock is held throughout, so outbox rows committed meanwhile wait
    (nobody can drain them into the index about to be retired) and are drained into the new one.
    """
    root.mkdir(parents=True, exist_ok=True)
    with _flock(root / ".rebuild.lock"):
        old = current_generation(root)
        old_lock = None
        if old is not None:
            old_lock = open_generation(root, old).lock(WRITELOCK)
            deadline = time.monotonic() + lock_timeout
            while not old_lock.acquire(blocking=False):
                if time.monotonic() >= deadline:
                    raise TimeoutError("another process kept the search index writer too long; try again")
                time.sleep(0.05)
        try:
            name, path = _new_generation(root)
            target = None
            try:
                ix = windex.create_in(str(path), make_schema())
                target = RebuildTarget(ix, memory_mb)
                yield target
                target.finish()
            except BaseException:
                if target is not None:
                    try:
                        target.cancel()
                    except Exception:  # the original error matters more; the directory goes anyway
                        log.exception("search: could not cancel the rebuild's writer")
                shutil.rmtree(path, ignore_errors=True)
                raise
            _set_current(root, name)
        finally:
            if old_lock is not None:
                old_lock.release()
        _remove_old_generations(root, keep={name, old})


def _remove_old_generations(root: Path, keep: set) -> None:
    """Delete generations no longer in service (the previous one stays for workers still switching)."""
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith(GENERATION_PREFIX) and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def stored_digests(root: Path) -> dict[str, str]:
    """key -> digest of every document in the index in service."""
    name = current_generation(root)
    if name is None:
        return {}
    ix = open_generation(root, name)
    with ix.searcher() as searcher:
        return {f["key"]: f.get("digest", "") for f in searcher.all_stored_fields()}


def doc_count(root: Path) -> int:
    name = current_generation(root)
    if name is None:
        return 0
    return open_generation(root, name).doc_count()
