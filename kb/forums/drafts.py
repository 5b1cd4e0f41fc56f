"""Drafts of signed-out visitors: what they typed waits on the server while they sign in."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from kb.extensions import db
from kb.forums.models import Draft
from kb.types import utcnow

# Each kept field is cut to the limit its form enforces, so a draft is never larger than a post.
FIELD_LIMITS = {
    "title": "FORUMS_TITLE_MAX_LENGTH",
    "body": "FORUMS_POST_MAX_LENGTH",
    "tags": "FORUMS_TAGS_FIELD_MAX_LENGTH",
}


def keep(path: str, form, fields: tuple[str, ...], replaces: str | None = None) -> str:
    """Store the named form fields for the page at ``path``; returns the token.

    The visitor's previous draft (``replaces``) and expired drafts are dropped: one draft per visitor.
    """
    config = current_app.config
    prune_expired()
    if replaces:
        db.session.execute(delete(Draft).where(Draft.token == replaces))
    data = {name: (form.get(name) or "").replace("\x00", "")[: int(config[FIELD_LIMITS[name]])] for name in fields}
    token = secrets.token_urlsafe(24)
    db.session.add(Draft(token=token, path=path, data=data))
    return token


def prune_expired() -> int:
    """Delete drafts older than FORUMS_DRAFT_MAX_AGE; returns how many went."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["FORUMS_DRAFT_MAX_AGE"])
    return db.session.execute(delete(Draft).where(Draft.created_at < cutoff)).rowcount or 0


def take(token: str | None, path: str) -> dict | None:
    """The draft kept under ``token`` for this page, removed from the session once taken; None if none."""
    if not token:
        return None
    draft = db.session.scalar(select(Draft).where(Draft.token == token))
    if draft is None or draft.path != path:
        return None
    data = dict(draft.data or {})
    db.session.delete(draft)
    return data
