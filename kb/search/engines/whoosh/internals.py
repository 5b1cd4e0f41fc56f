"""Every use of a private Whoosh-Reloaded name, in one place, and the version they were checked on.

Whoosh's own matcher undoes delta-encoded posting ids one at a time in a Python generator and its
per-document reader stats the file system for every missing column; reading the codec's posting
blocks directly, and remembering missing columns, is what makes queries and rebuilds fast. These
names are private, so they are used only when the installed version is one they were checked
against (CHECKED_VERSIONS) and every name is present; otherwise, or with
``KB_SEARCH_WHOOSH_FAST_PATHS=false``, the callers use Whoosh's public API, which ranks the same
(a test proves it) only slower. After upgrading Whoosh, check the names below, add the version and
re-run ``make bench``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from itertools import accumulate, islice

import whoosh
from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length

log = logging.getLogger(__name__)

CHECKED_VERSIONS = {(2, 7, 5)}
INSTALLED = tuple(whoosh.__version__[:3])
# The private names this module reads, as (object, attribute) pairs checked at import.
_REQUIRED = ((whoosh3, "W3LeafMatcher"), (whoosh3, "W3PerDocReader"), (whoosh3, "LENGTHS_COLUMN"),
             (whoosh3, "_lenfield"))
# W3LeafMatcher's methods (checked at import) and per-instance attributes (checked per matcher).
_MATCHER_METHODS = ("_read_data", "_next_block")
_MATCHER_NAMES = (*_MATCHER_METHODS, "_data", "_maxid", "_blocklength", "_byteids")
_LENGTH_TABLE = [byte_to_length(i) for i in range(256)]


def _compatible() -> bool:
    if INSTALLED not in CHECKED_VERSIONS:
        log.warning("search: Whoosh-Reloaded %s is not a version the fast paths were checked on (%s); "
                    "using the public API", ".".join(map(str, INSTALLED)),
                    ", ".join(".".join(map(str, v)) for v in sorted(CHECKED_VERSIONS)))
        return False
    missing = [name for owner, name in _REQUIRED if not hasattr(owner, name)]
    matcher = getattr(whoosh3, "W3LeafMatcher", None)
    missing += [name for name in _MATCHER_METHODS if matcher is not None and not hasattr(matcher, name)]
    if missing:
        log.warning("search: Whoosh-Reloaded lacks %s; using the public API", ", ".join(missing))
        return False
    return True


COMPATIBLE = _compatible()
_state = {"fast": COMPATIBLE, "patched": False}


def configure(fast_paths: bool) -> None:
    """Switch the fast paths on (when the installed Whoosh allows) or off; called from init_app."""
    _state["fast"] = bool(fast_paths) and COMPATIBLE
    if _state["fast"]:
        _cache_missing_columns()


def fast_paths() -> bool:
    return _state["fast"]


def _cache_missing_columns() -> None:
    """Make Whoosh's per-document reader remember that a column does not exist, not only that it does.

    ``W3PerDocReader._cached_reader`` caches the column readers it finds but asks the file system
    again for every miss. While a segment's postings are written it looks up the length column of
    each posting's field, and fields that are not scorable (``spell``, the IDs, ``updated``) have
    none, so it cost one ``os.stat`` per posting: hundreds of thousands per thousand documents.
    A per-document reader belongs to a finished segment whose files never change, so a miss stays a
    miss and caching it (as None) is safe. Applied once per process, never at import.
    """
    original = whoosh3.W3PerDocReader._cached_reader
    if getattr(original, "caches_misses", False):
        return

    def _cached_reader(self, fieldname, column):
        try:
            return self._readers[fieldname]
        except KeyError:
            reader = self._readers[fieldname] = original(self, fieldname, column)
            return reader

    _cached_reader.caches_misses = True
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    _state["patched"] = True


def patched() -> bool:
    return getattr(whoosh3.W3PerDocReader._cached_reader, "caches_misses", False)


Block = tuple[int, Callable[[], tuple[list[int], list[float]]]]


def posting_blocks(leaf, fieldname: str, text: str, offset: int) -> Iterator[Block] | None:
    """The term's posting blocks in one segment as (last global document number, decode), where
    decode() gives (global ids, weights) and must be called before moving to the next block.

    None when the fast paths are off or the term is not block-coded (stored inline, another codec):
    the caller then reads the public postings. Raises KeyError or TermNotFound when the segment
    lacks the term.
    """
    if not _state["fast"]:
        return None
    try:
        matcher = leaf._terms.matcher(fieldname, leaf._text_to_bytes(fieldname, text),
                                      leaf.schema[fieldname].format, scorer=None)
    except AttributeError:
        return None
    if not all(hasattr(matcher, name) for name in _MATCHER_NAMES):
        return None
    return _blocks(matcher, offset)


def _blocks(matcher, offset: int) -> Iterator[Block]:
    while matcher.is_active():
        yield matcher._maxid + offset, partial(_decode, matcher, offset)
        matcher._next_block()


def _decode(matcher, offset: int) -> tuple[list[int], list[float]]:
    if matcher._data is None:
        matcher._read_data()
    block_ids, block_weights = matcher._data[0], matcher._data[1]
    if matcher._byteids:
        ids = list(map(offset.__add__, block_ids))
    else:
        ids = list(islice(accumulate(block_ids, initial=offset), 1, None))
    if block_weights is None or isinstance(block_weights, float):
        return ids, [block_weights or 1.0] * len(ids)
    return ids, list(block_weights)


def field_lengths(leaf, fieldname: str) -> list[int] | None:
    """Each document's (lossy, one-byte) length in a field of one segment, from the codec's length
    column; [] when the segment keeps none, None when the fast paths cannot read it."""
    if not _state["fast"]:
        return None
    try:
        column = leaf._perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    except AttributeError:
        return None
    return [_LENGTH_TABLE[b] for b in column] if column is not None else []
