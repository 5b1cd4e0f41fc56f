"""The per-user half of the page cache: pages and values kept for one signed-in user.

Such a page is keyed on the URL, the user and the user's page version: a column of the user row,
which every request reads anyway (``track_viewers``), raised in the transaction of any change to what
that user's pages show (``watch_viewer``: their likes, watches, notifications, the user row itself;
``viewers_changed`` for statements the session does not track).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, has_app_context, session
from sqlalchemy.orm import Session

from kb.extensions import db
from kb.page_cache.rules import SHARED_SESSION_KEYS, state

# What a signed-in user's session may hold for their page to be kept for them: the login itself.
SIGNED_IN_SESSION_KEYS = SHARED_SESSION_KEYS | {"_user_id", "_id", "_remember", "_remember_seconds"}
_SESSION_VIEWERS = "kb_page_cache_viewers"


def track_viewers(app: Flask, version) -> None:
    """``version`` (a user model's integer column) is raised for each user whose pages change."""
    state(app).viewer_version = version


def watch_viewer(app: Flask, model: type, user_attribute: str) -> None:
    """A committed change to a ``model`` row ends the cached pages of the user its ``user_attribute`` names."""
    state(app).viewer_watched[model] = user_attribute


def viewers_changed(user_ids) -> None:
    """For statements the session does not track (bulk inserts and updates): these users' pages changed."""
    bump(db.session(), set(user_ids))


def per_viewer(name: str, user, compute: Callable[[], object]):
    """A value about a signed-in user (the header's unread count) that only their page version or a
    change counter can change: computed once per worker until one of them moves."""
    found = state(current_app)
    if found.viewer_version is None:
        return compute()
    counters = found.current_counters(float(current_app.config["PAGE_CACHE_CHECK_SECONDS"]))
    key = (name, user.id, getattr(user, found.viewer_version.key), tuple(sorted(counters.items())))
    return found.remembered(found.viewer_values, key, compute)


def viewer_key() -> tuple | None:
    """For a signed-in user whose session holds only the login: who they are and their page version."""
    from flask_login import current_user

    found = state(current_app)
    if found.viewer_version is None or not current_user.is_authenticated:
        return None
    if not session.keys() <= SIGNED_IN_SESSION_KEYS:
        return None
    return (current_user.id, getattr(current_user, found.viewer_version.key))


def changed_viewers(found, objects) -> set[int]:
    """The users named by those of these changed rows whose model is under ``watch_viewer``."""
    return {getattr(obj, found.viewer_watched[type(obj)]) for obj in objects if type(obj) in found.viewer_watched}


def bump(session: Session, user_ids: set[int]) -> None:
    """Raise these users' page version in the session's transaction, once per user per transaction."""
    found = current_app.extensions.get("kb_page_cache") if has_app_context() else None
    user_ids = {user_id for user_id in user_ids if user_id is not None}
    user_ids -= session.info.get(_SESSION_VIEWERS, set())
    if found is None or found.viewer_version is None or not user_ids:
        return
    column = found.viewer_version
    table = column.class_.__table__
    # Sorted, so two transactions raising the same users lock their rows in the same order.
    session.connection().execute(table.update().where(table.c.id.in_(sorted(user_ids)))
                                 .values({column.key: table.c[column.key] + 1}))
    session.info.setdefault(_SESSION_VIEWERS, set()).update(user_ids)


def transaction_ended(session: Session) -> None:
    session.info.pop(_SESSION_VIEWERS, None)
