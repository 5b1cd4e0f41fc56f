"""Rendered pieces of pages (a forum post) shared by every viewer who sees them alike.

Signed-in pages cannot be cached whole, but most of their weight is repeated parts that look the
same to many viewers: a reply looks alike to every customer who neither wrote nor liked it. A caller
keys a piece on everything its template reads (the object's own state and the viewer's flags), so a
stale piece is never served: any change makes a new key, and old keys fall out of the per-process,
least-recently-used store. The CSRF token in a stored piece is a placeholder, replaced by this
viewer's own in every response.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from kb.page_cache.store import LruStore

_STORE = "kb_page_pieces"


def _store() -> LruStore | None:
    size = int(current_app.config["PAGE_PIECES_SIZE"])
    if size <= 0:
        return None
    found = current_app.extensions.get(_STORE)
    if found is None or found.size != size:
        found = current_app.extensions[_STORE] = LruStore(size)
    return found


def piece(key: tuple[Hashable, ...], render: Callable[[], str]) -> Markup:
    """``render()``'s HTML, rendered once per worker for every request with the same ``key``."""
    from kb.page_cache import CSRF_MARKER, csrf_field_name

    store = _store()
    if store is None:
        return Markup(render())
    key = (request.script_root, *key)  # the links in a piece name the mount point
    html = store.get(key)
    field = csrf_field_name()
    if html is None:
        token = g.get(field)
        setattr(g, field, CSRF_MARKER)
        try:
            html = str(render())
        finally:
            if token is None:
                g.pop(field, None)
            else:
                setattr(g, field, token)
        store.put(key, html)
    if CSRF_MARKER in html and g.get(field) != CSRF_MARKER:  # a page being cached keeps the placeholder
        html = html.replace(CSRF_MARKER, generate_csrf())
    return Markup(html)
