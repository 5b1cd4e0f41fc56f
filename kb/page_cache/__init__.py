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

A page registered with ``signed_in=True`` (a thread, a case) is also kept per signed-in user
(``viewers``): served only to the user it was rendered for, while its kinds are unchanged, for at
most PAGE_CACHE_SIGNED_IN_SECONDS (or until the time the view gave to ``fresh_until``), and only
while the session holds nothing but the login (no draft, no flash).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
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
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kb.page_cache import viewers
from kb.page_cache.models import ChangeCounter
from kb.page_cache.rules import SHARED_SESSION_KEYS, PageRule, state
from kb.page_cache.store import Entry
from kb.page_cache.viewers import (  # noqa: F401 (the package's interface)
    per_viewer,
    track_viewers,
    viewers_changed,
    watch_viewer,
)

# Random per process, so no stored content can contain them by accident.
CSRF_MARKER = f"kb-csrf-{secrets.token_hex(12)}"
_FRAGMENT_PREFIX = f"kbfragment{secrets.token_hex(8)}"
STORED_TYPES = frozenset({"text/html", "application/atom+xml", "application/xml"})
_SESSION_KINDS = "kb_page_cache_kinds"


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


def kept(name: str, kinds: tuple[str, ...], compute: Callable[[], object]):
    """A value every visitor sees alike that only changes with ``kinds`` (the category names a search
    page shows): computed once per worker until one of their change counters moves. Treat it as
    read-only: every request gets the same object."""
    found = state(current_app)
    counters = found.current_counters(float(current_app.config["PAGE_CACHE_CHECK_SECONDS"]))
    return found.remembered(found.values, (name, *(counters.get(kind, 0) for kind in kinds)), compute)


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


def _count_changes(session: Session, flush_context) -> None:
    if not has_app_context():
        return
    found = current_app.extensions.get("kb_page_cache")
    if found is None or not (found.watched or found.viewer_watched):
        return
    kinds: set[str] = set()
    changed = [*session.new, *session.deleted]
    changed += [obj for obj in session.dirty if (type(obj) in found.watched or type(obj) in found.viewer_watched)
                and session.is_modified(obj, include_collections=False)]
    for obj in changed:
        kinds |= found.watched.get(type(obj), set())
    kinds -= session.info.get(_SESSION_KINDS, set())  # once per transaction is enough
    _bump(session, kinds)
    viewers.bump(session, viewers.changed_viewers(found, changed))


def _after_commit(session: Session) -> None:
    viewers.transaction_ended(session)
    if session.info.pop(_SESSION_KINDS, None) and has_app_context():
        found = current_app.extensions.get("kb_page_cache")
        if found is not None:
            found.read_at = float("-inf")  # this worker sees its own change on the next request


def _after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KINDS, None)
    viewers.transaction_ended(session)


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


def _serve_from_cache():
    g.pop("kb_page_hit", None)  # never one left from an earlier request sharing this g (tests)
    found = state(current_app)
    rule = found.pages.get(request.endpoint)
    if rule is None or request.method not in ("GET", "HEAD"):
        return None
    config = current_app.config
    kinds = rule.kinds
    viewer = None
    if shared_visitor():
        store, key, seconds = found.store, request.url, float(config[rule.seconds_setting])
    elif rule.signed_in and (viewer := viewers.viewer_key()) is not None:
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
        g.kb_page = {"key": key, "store": store, "viewer": viewer, "seconds": seconds, "fragments": {},
                     "token": g.pop(csrf_field_name(), None),
                     "counters": {kind: counters.get(kind, 0) for kind in kinds}}
        setattr(g, csrf_field_name(), CSRF_MARKER)
    return None


def _storable(response, viewer: tuple | None) -> bool:
    """A page fit for every signed-out visitor (or, kept for a signed-in ``viewer``, for the same user
    at the same page version): no cookie set, nothing personal in the session, and no flashed message
    shown (``get_flashed_messages`` still returns what the page's render took out)."""
    audience = viewers.viewer_key() == viewer if viewer is not None else shared_visitor()
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
    if not _storable(response, pending["viewer"]) or pending["seconds"] <= 0:
        response.set_data(_personalise(body, True, values))
        return response
    entry = Entry(
        body=body, mimetype=response.mimetype, counters=pending["counters"],
        expires=time.monotonic() + pending["seconds"], modified=datetime.now(UTC).replace(microsecond=0),
        etag=hashlib.sha256(body.encode()).hexdigest()[:20], csrf=CSRF_MARKER in body,
        private=pending["viewer"] is not None,
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
