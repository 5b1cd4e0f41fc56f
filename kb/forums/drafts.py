"""Drafts of signed-out visitors: what they typed waits on the server while they sign in."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from kb.extensions import db
from kb.forums.models import Draft
from kb.types import utcnow


def keep(path: str, form, fields: tuple[str, ...]) -> str:
    """Store the named form fields for the page at ``path`` (dropping expired drafts); returns the token."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["FORUMS_DRAFT_MAX_AGE"])
    db.session.execute(delete(Draft).where(Draft.created_at < cutoff))
    limit = current_app.config["FORUMS_POST_MAX_LENGTH"] * 2
    data = {name: (form.get(name) or "").replace("\x00", "")[:limit] for name in fields}
    token = secrets.token_urlsafe(24)
    db.session.add(Draft(token=token, path=path, data=data))
    return token


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
