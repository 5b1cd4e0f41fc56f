"""The anonymous page cache every feature uses: public pages rendered once per worker for signed-out visitors.

A feature names the endpoints whose pages signed-out visitors all see alike (``register_page``) and
the models whose changes those pages show (``watch``). A flush that touches a watched model bumps
that kind's row in ``change_counters`` inside the same transaction; each worker reads the counters
at most once every PAGE_CACHE_CHECK_SECONDS (at once after a commit of its own), and a stored page
is served only while the counters of its kinds are unchanged, so a change reaches every worker
within that interval. Pages also expire after PAGE_CACHE_SECONDS (what no counter watches: relative
times, display names).

Pages are keyed on the full URL (scheme, host, path and query string: canonical links name the
host) and stored only from a GET answered 200 with HTML or a feed, for a visitor whose session holds
nothing but a CSRF secret and who has no remember cookie, when the view set no cookie. While a page is
being stored, Flask-WTF's per-request token (``g.csrf_token``, which its ``generate_csrf`` returns
when set; checked against Flask-WTF 1.2 and 1.3) is a placeholder, replaced in every response by
that visitor's own token; other per-response parts (``fragment``) are filled in the same way. So no
visitor ever receives another's token, flash message, draft or header.

Every cached page answers with ``ETag``, ``Last-Modified`` and ``Vary: Cookie``, and conditional
requests get a 304.

A page registered with ``signed_in=True`` (a thread, a case) is also kept per signed-in user, keyed on
the URL, the user and the user's page version: a column of the user row, which every request reads
anyway, raised in the transaction of any change to what that user's pages show (``watch_viewer``:
their likes, watches, notifications, the user row itself; ``viewers_changed`` for statements the
session does not track). Such a page is served only to the user it was rendered for, while its
kinds are unchanged, for at most PAGE_CACHE_SIGNED_IN_SECONDS (or until the time the view gave to
``fresh_until``), and only while the session holds nothing but the login (no draft, no flash).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import (
    Flask,
    current_app,
    g,
    get_flashed_messages,
    has_app_context,
    request,
    session,
)
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kb.extensions import db
from kb.page_cache import settings
from kb.page_cache.models import ChangeCounter
from kb.page_cache.store import Entry, LruStore, PageStore

# Random per process, so no stored content can contain them by accident.
CSRF_MARKER = f"kb-csrf-{secrets.token_hex(12)}"
_FRAGMENT_PREFIX = f"kbfragment{secrets.token_hex(8)}"
# What a signed-out visitor's session may hold for a page to be shared: anything else (a login,
# flashes, a vote, a draft) is personal.
SHARED_SESSION_KEYS = frozenset({"csrf_token", "_fresh", "_permanent"})
# What a signed-in user's session may hold for their page to be kept for them: the login itself.
SIGNED_IN_SESSION_KEYS = SHARED_SESSION_KEYS | {"_user_id", "_id", "_remember", "_remember_seconds"}
STORED_TYPES = frozenset({"text/html", "application/atom+xml", "application/xml"})
_SESSION_KINDS = "kb_page_cache_kinds"
_SESSION_VIEWERS = "kb_page_cache_viewers"


@dataclass(frozen=True)
class PageRule:
    kinds: tuple[str, ...]
    seconds_setting: str
    in_view: bool  # the view answers hits itself (``cached_response``), after its own rate limit
    signed_in: bool  # also kept per signed-in user
    signed_in_kinds: tuple[str, ...] = ()  # what only signed-in users see there (a linked case)


class CacheState:
    """One app's rules, store and last reading of the change counters."""

    def __init__(self, size: int):
        self.pages: dict[str, PageRule] = {}
        self.watched: dict[type, set[str]] = {}
        self.viewer_watched: dict[type, str] = {}  # model -> the attribute naming the user it concerns
        self.viewer_version = None  # the user column raised by those changes (track_viewers)
        self.fillers: dict[str, Callable[..., object]] = {}
        self.store = PageStore(size)
        self.viewer_store = PageStore(size)
        self.viewer_values = LruStore(size)
        self.counters: dict[str, int] = {}
        self.read_at = float("-inf")

    def current_counters(self, every: float) -> dict[str, int]:
        """The change counters, read from the database at most once every ``every`` seconds."""
        now = time.monotonic()
        if now - self.read_at >= every:
            self.counters = dict(db.session.execute(select(ChangeCounter.kind, ChangeCounter.value)).all())
            self.read_at = now
        return self.counters


def state(app: Flask) -> CacheState:
    found = app.extensions.get("kb_page_cache")
    if found is None:
        settings.apply(app.config)
        found = app.extensions["kb_page_cache"] = CacheState(int(app.config["PAGE_CACHE_SIZE"]))
        found.viewer_store = PageStore(int(app.config["PAGE_CACHE_SIGNED_IN_SIZE"]))
        found.viewer_values = LruStore(int(app.config["PAGE_CACHE_SIGNED_IN_SIZE"]))
    return found


def register_page(app: Flask, endpoint: str, *kinds: str, seconds_setting: str = "PAGE_CACHE_SECONDS",
                  in_view: bool = False, signed_in: bool = False) -> None:
    """Serve this endpoint's pages to signed-out visitors from the cache while ``kinds`` are unchanged.

    A view with a rate limit of its own passes ``in_view=True`` and starts with ``cached_response()``:
    a hit answered before the view would skip the limit, which Flask-Limiter checks in the view's decorator.
    ``signed_in=True`` also keeps each signed-in user's page for them (see the module's docstring): only
    for views whose every per-user part comes from the user row or from models under ``watch_viewer``.
    """
    state(app).pages[endpoint] = PageRule(tuple(sorted(kinds)), seconds_setting, in_view, signed_in)


def signed_in_also_shows(app: Flask, endpoint: str, *kinds: str) -> None:
    """A feature adds to a page what only signed-in users see (a linked case on a thread): their kept
    pages end with changes to ``kinds`` too, while signed-out visitors' pages do not."""
    rule = state(app).pages[endpoint]
    state(app).pages[endpoint] = replace(rule, signed_in_kinds=tuple(sorted({*rule.signed_in_kinds, *kinds})))


def track_viewers(app: Flask, version) -> None:
    """``version`` (a user model's integer column) is raised for each user whose pages change."""
    state(app).viewer_version = version


def watch_viewer(app: Flask, model: type, user_attribute: str) -> None:
    """A committed change to a ``model`` row ends the cached pages of the user its ``user_attribute`` names."""
    state(app).viewer_watched[model] = user_attribute


def viewers_changed(user_ids) -> None:
    """For statements the session does not track (bulk inserts and updates): these users' pages changed."""
    _bump_viewers(db.session(), set(user_ids))


def per_viewer(name: str, user, compute: Callable[[], object]):
    """A value about a signed-in user (the header's unread count) that only their page version or a
    change counter can change: computed once per worker until one of them moves."""
    found = state(current_app)
    if found.viewer_version is None:
        return compute()
    counters = found.current_counters(float(current_app.config["PAGE_CACHE_CHECK_SECONDS"]))
    key = (name, user.id, getattr(user, found.viewer_version.key), tuple(sorted(counters.items())))
    value = found.viewer_values.get(key)
    if value is None:
        value = compute()
        found.viewer_values.put(key, value)
    return value


def fresh_until(moment: datetime) -> None:
    """The page being rendered changes by itself at ``moment`` (a clock running out): keep it no longer."""
    pending = g.get("kb_page")
    if pending is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        left = (moment - datetime.now(UTC)).total_seconds()
        if left > 0:  # a moment gone by changes nothing any more
            pending["seconds"] = min(pending["seconds"], left)


def cached_response():
    """In a view registered with ``in_view=True``: the cached answer for this request, or None."""
    entry = g.pop("kb_page_hit", None)
    return None if entry is None else _respond(entry)


def watch(app: Flask, kind: str, *models: type) -> None:
    """A committed change to any of these models ends every cached page showing ``kind``."""
    for model in models:
        state(app).watched.setdefault(model, set()).add(kind)


def register_fragment(app: Flask, name: str, fill: Callable[..., object]) -> None:
    """``fill(**details)`` gives a cached page's part ``name`` for each response (see ``fragment``)."""
    state(app).fillers[name] = fill


def fragment(name: str, value, **details):
    """A part of the page that differs per response, or work each response does (e.g. counting
    this search).

    While the page is being stored, returns a placeholder and keeps ``details``: each later
    response from the cache gets ``fill(**details)`` of the filler registered under ``name``.
    """
    pending = g.get("kb_page")
    if pending is None or value is None:
        return value
    pending["fragments"][name] = {"value": value, "details": details}
    return _FRAGMENT_PREFIX + name.replace("-", "")


def _bump(session: Session, kinds: set[str]) -> None:
    if not kinds:
        return
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = ChangeCounter.__table__
    # Sorted, so two transactions bumping the same kinds lock the rows in the same order.
    statement = dialect.insert(table).values([{"kind": kind, "value": 1} for kind in sorted(kinds)])
    connection.execute(statement.on_conflict_do_update(index_elements=[table.c.kind],
                                                       set_={"value": table.c.value + 1}))
    session.info.setdefault(_SESSION_KINDS, set()).update(kinds)


def _bump_viewers(session: Session, user_ids: set[int]) -> None:
    found = current_app.extensions.get("kb_page_cache") if has_app_context() else None
    user_ids = {user_id for user_id in user_ids if user_id is not None}
    user_ids -= session.info.get(_SESSION_VIEWERS, set())  # once per transaction is enough
    if found is None or found.viewer_version is None or not user_ids:
        return
    column = found.viewer_version
    table = column.class_.__table__
    session.connection().execute(table.update().where(table.c.id.in_(sorted(user_ids)))
                                 .values({column.key: table.c[column.key] + 1}))
    session.info.setdefault(_SESSION_VIEWERS, set()).update(user_ids)


def _count_changes(session: Session, flush_context) -> None:
    if not has_app_context():
        return
    found = current_app.extensions.get("kb_page_cache")
    if found is None or not (found.watched or found.viewer_watched):
        return
    kinds: set[str] = set()
    viewers: set[int] = set()
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if (type(obj) in found.watched or type(obj) in found.viewer_watched)
                and session.is_modified(obj, include_collections=False)]
    for obj in changed:
        kinds |= found.watched.get(type(obj), set())
        attribute = found.viewer_watched.get(type(obj))
        if attribute is not None:
            viewers.add(getattr(obj, attribute))
    kinds -= session.info.get(_SESSION_KINDS, set())  # once per transaction is enough
    _bump(session, kinds)
    _bump_viewers(session, viewers)


def _after_commit(session: Session) -> None:
    session.info.pop(_SESSION_VIEWERS, None)
    if session.info.pop(_SESSION_KINDS, None) and has_app_context():
        found = current_app.extensions.get("kb_page_cache")
        if found is not None:
            found.read_at = float("-inf")  # this worker sees its own change on the next request


def _after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KINDS, None)
    session.info.pop(_SESSION_VIEWERS, None)


def install_listeners() -> None:
    for name, listener in (("after_flush", _count_changes), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# --- the request path ----------------------------------------------------------------------------

def shared_visitor() -> bool:
    """Whether this visitor sees what every signed-out visitor sees (nothing personal in the session)."""
    if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        return False
    return session.keys() <= SHARED_SESSION_KEYS


def csrf_field_name() -> str:
    """Where Flask-WTF keeps this request's token in ``g`` (and the form field's name)."""
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _viewer_key() -> tuple | None:
    """For a signed-in user whose session holds only the login: who they are and their page version."""
    from flask_login import current_user

    found = state(current_app)
    if found.viewer_version is None or not current_user.is_authenticated:
        return None
    if not session.keys() <= SIGNED_IN_SESSION_KEYS:
        return None
    return (current_user.id, getattr(current_user, found.viewer_version.key))


def _serve_from_cache():
    g.pop("kb_page_hit", None)  # never one left from an earlier request sharing this g (tests)
    found = state(current_app)
    rule = found.pages.get(request.endpoint)
    if rule is None or request.method not in ("GET", "HEAD"):
        return None
    config = current_app.config
    kinds = rule.kinds
    if shared_visitor():
        store, key, seconds = found.store, request.url, float(config[rule.seconds_setting])
    elif rule.signed_in and (viewer := _viewer_key()) is not None:
        store, key, seconds = found.viewer_store, (request.url, *viewer), float(config["PAGE_CACHE_SIGNED_IN_SECONDS"])
        kinds += rule.signed_in_kinds
    else:
        return None
    if seconds <= 0:
        return None
    counters = found.current_counters(float(config["PAGE_CACHE_CHECK_SECONDS"]))
    entry = store.get(key, counters)
    if entry is not None:
        if rule.in_view:
            g.kb_page_hit = entry
            return None
        return _respond(entry)
    if request.method == "GET":  # a HEAD is answered from the cache but never fills it
        g.kb_page = {"key": key, "store": store, "seconds": seconds, "fragments": {},
                     "token": g.pop(csrf_field_name(), None),
                     "counters": {kind: counters.get(kind, 0) for kind in kinds}}
        setattr(g, csrf_field_name(), CSRF_MARKER)
    return None


def _storable(response, key) -> bool:
    """A page fit for every signed-out visitor (or, for a signed-in key, for the same user at the same
    page version): no cookie set, nothing personal in the session, and no flashed message shown
    (``get_flashed_messages`` still returns what the page's render took out)."""
    if isinstance(key, tuple):
        audience = _viewer_key() == key[1:]
    else:
        audience = shared_visitor()
    return (response.status_code == 200 and response.mimetype in STORED_TYPES and not response.direct_passthrough
            and "Set-Cookie" not in response.headers and audience and not get_flashed_messages())


def _store_rendered(response):
    pending = g.pop("kb_page", None)
    if pending is None:
        return response
    g.pop(csrf_field_name(), None)
    if pending["token"] is not None:  # a test's requests share one g
        setattr(g, csrf_field_name(), pending["token"])
    if response.direct_passthrough or response.is_streamed:
        return response
    body = response.get_data(as_text=True)
    values = {name: part["value"] for name, part in pending["fragments"].items()}
    if not _storable(response, pending["key"]) or pending["seconds"] <= 0:
        response.set_data(_personalise(body, True, values))
        return response
    entry = Entry(
        body=body, mimetype=response.mimetype, counters=pending["counters"],
        expires=time.monotonic() + pending["seconds"], modified=datetime.now(UTC).replace(microsecond=0),
        etag=hashlib.sha256(body.encode()).hexdigest()[:20], csrf=CSRF_MARKER in body,
        private=isinstance(pending["key"], tuple),
        fragments={name: part["details"] for name, part in pending["fragments"].items()},
    )
    pending["store"].put(pending["key"], entry)
    return _respond(entry, values)


def _personalise(body: str, csrf: bool, values: dict[str, object]) -> str:
    """The placeholders replaced: this visitor's CSRF token, and each fragment's value for this response."""
    if csrf and CSRF_MARKER in body:
        body = body.replace(CSRF_MARKER, generate_csrf())
    for name, value in values.items():
        body = body.replace(_FRAGMENT_PREFIX + name.replace("-", ""), "" if value is None else str(value))
    return body


def _respond(entry: Entry, values: dict | None = None):
    """A cached page for this visitor: their own token and fragments, validators, maybe a 304."""
    if values is None:  # served from the cache: each fragment filled afresh (e.g. this search counted)
        fillers = state(current_app).fillers
        values = {name: fillers[name](**details) for name, details in entry.fragments.items()}
    body = _personalise(entry.body, entry.csrf, values)
    response = current_app.response_class(body, mimetype=entry.mimetype)
    etag = entry.etag
    if entry.csrf:
        # The token in the page is this visitor's: the validator names their CSRF secret and a time
        # window, so a 304 never keeps a token older than half its lifetime.
        limit = current_app.config.get("WTF_CSRF_TIME_LIMIT") or 3600
        window = int(time.time() // max(1, int(limit) // 2))
        secret = str(session.get(csrf_field_name(), ""))
        etag += "-" + hashlib.sha256(f"{secret}:{window}".encode()).hexdigest()[:12]
    response.set_etag(etag, weak=True)
    response.last_modified = entry.modified
    response.headers["Cache-Control"] = "private, no-cache" if entry.csrf or entry.private else "no-cache"
    response.vary.add("Cookie")
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Last in create_app: the lookup runs after every other before-request hook (rate limits, request
    ids), and storing runs first among the after-request hooks, which then see the cached answer."""
    state(app)
    install_listeners()
    app.before_request(_serve_from_cache)
    app.after_request(_store_rendered)
