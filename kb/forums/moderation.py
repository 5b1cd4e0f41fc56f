"""Flags and staff actions on threads and posts, and the secret-scanner rules staff configure."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from kb.extensions import db
from kb.forums import permissions, secrets
from kb.forums.models import (
    FLAG_REASONS,
    Flag,
    ForumCategory,
    Post,
    SecretPattern,
    Thread,
)
from kb.forums.seed import SeedError, validate_slug
from kb.forums.threads import ForumError
from kb.types import utcnow


def flag_post(post: Post, reporter, reason: str, note: str = "") -> Flag:
    """Record a flag; a second flag from the same person on the same post updates the first."""
    if reason not in FLAG_REASONS:
        raise ForumError("Choose one of the listed reasons.")
    existing = db.session.scalar(
        select(Flag).where(Flag.post_id == post.id, Flag.reporter_id == reporter.id, Flag.resolved_at.is_(None))
    )
    if existing is not None:
        existing.reason, existing.note = reason, note
        return existing
    flag = Flag(post=post, reporter_id=reporter.id, reason=reason, note=note)
    db.session.add(flag)
    return flag


def open_flags_query(moderator):
    """Open flags on posts in categories this moderator can read, oldest first."""
    return (
        select(Flag)
        .join(Flag.post)
        .join(Post.thread)
        .join(Thread.category)
        .where(Flag.resolved_at.is_(None), ForumCategory.read_access.in_(permissions.readable_levels(moderator)))
        .options(
            joinedload(Flag.post).joinedload(Post.thread).joinedload(Thread.category),
            joinedload(Flag.post).joinedload(Post.author),
            joinedload(Flag.reporter),
        )
        .order_by(Flag.created_at)
    )


def resolve_flags(post: Post, moderator, resolution: str) -> int:
    """Close every open flag on a post (``hidden`` or ``dismissed``); returns how many."""
    result = db.session.execute(
        update(Flag)
        .where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=moderator.id, resolution=resolution)
    )
    return result.rowcount or 0


THREAD_ACTIONS = {
    "lock": ("locked", True, "Thread locked: nobody but staff can reply."),
    "unlock": ("locked", False, "Thread unlocked."),
    "pin": ("pinned", True, "Thread pinned to the top of its category."),
    "unpin": ("pinned", False, "Thread unpinned."),
    "announce": ("announcement", True, "Thread marked as an announcement."),
    "unannounce": ("announcement", False, "Thread is no longer an announcement."),
}


def apply_thread_action(thread: Thread, action: str) -> str:
    if action not in THREAD_ACTIONS:
        raise ForumError("Unknown moderation action.")
    attribute, value, message = THREAD_ACTIONS[action]
    setattr(thread, attribute, value)
    return message


def move_thread(thread: Thread, category: ForumCategory) -> None:
    thread.category = category


def category_slug(raw: str | None, category: ForumCategory | None) -> str:
    """The normalised slug for a category being saved; ForumError when invalid or used by another one."""
    slug = (raw or "").strip().lower()
    try:
        validate_slug(slug, "Slug")
    except SeedError as exc:
        raise ForumError(str(exc)) from None
    clash = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == slug))
    if clash is not None and clash is not category:
        raise ForumError("Another category already uses this slug.")
    return slug


# --- Secret scanner rules ----------------------------------------------------------------------

def validate_pattern(pattern: str) -> None:
    """Refuse patterns that do not compile, match empty text (they would flag everything) or backtrack for seconds."""
    config = current_app.config
    try:
        secrets.check_pattern(pattern, float(config["FORUMS_SECRET_SCAN_TIMEOUT"]), int(config["FORUMS_SECRET_PROBE_LENGTH"]))
    except secrets.PatternError as exc:
        raise ForumError(str(exc)) from None


def add_secret_pattern(name: str, pattern: str, user) -> SecretPattern:
    """A staff-added scanner pattern; refuses invalid patterns and names already in use."""
    name = name.strip()
    validate_pattern(pattern)
    if db.session.scalar(select(SecretPattern).where(SecretPattern.name == name)):
        raise ForumError("A pattern with this name exists already.")
    row = SecretPattern(name=name, pattern=pattern, created_by_id=user.id)
    db.session.add(row)
    return row


def configured_rules() -> list[secrets.SecretRule]:
    """Built-in rules, minus those switched off in config, plus config and staff-added patterns."""
    extra: list[tuple[str, str]] = list((current_app.config.get("FORUMS_SECRET_PATTERNS") or {}).items())
    extra += [
        (row.name, row.pattern)
        for row in db.session.scalars(select(SecretPattern).where(SecretPattern.enabled.is_(True)).order_by(SecretPattern.id))
    ]
    valid = []
    for name, pattern in extra:
        try:
            if secrets.compile_pattern(pattern).search(""):
                raise secrets.PatternError("matches empty text")
        except secrets.PatternError:
            current_app.logger.warning("Ignoring invalid forum secret pattern %r", name)
            continue
        valid.append((name, pattern))
    return secrets.compile_rules(valid, current_app.config.get("FORUMS_SECRET_PATTERNS_DISABLED") or [])


def scan_for_secrets(*texts: str) -> list[secrets.Finding]:
    """Findings in every text; the scanner has FORUMS_SECRET_SCAN_TIMEOUT seconds per text."""
    rules = configured_rules()
    timeout = float(current_app.config["FORUMS_SECRET_SCAN_TIMEOUT"])
    findings: list[secrets.Finding] = []
    for text in texts:
        findings.extend(secrets.scan(text or "", rules, timeout))
    return findings
