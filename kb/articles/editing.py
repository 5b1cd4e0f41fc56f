"""Changing articles: create, save with a revision, publish, archive, restore, review, feedback.

Every function here adds to the session and leaves the commit to its caller (a view or a CLI
command), so a failed request changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import unified_diff

from sqlalchemy import func, select

from kb.articles.models import (
    Article,
    ArticleStatus,
    ArticleTag,
    ArticleType,
    Category,
    Feedback,
    Revision,
)
from kb.extensions import db
from kb.markup import RENDER_VERSION, render_article
from kb.types import utcnow
from kb.urls import slugify

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 120
# Addresses the article URLs already use for pages of their own.
RESERVED_SLUGS = {"new", "preview"}
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")


class EditError(ValueError):
    """A change that cannot be made, with a message a person can act on."""


def valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.match(slug)) and len(slug) <= SLUG_MAX_LENGTH and slug not in RESERVED_SLUGS


def unique_slug(title: str, exclude_id: int | None = None) -> str:
    """A slug from the title that no other article uses yet (adds -2, -3 ... on collision)."""
    base = slugify(title, SLUG_MAX_LENGTH - 6) or "article"
    taken = set(
        db.session.scalars(
            select(Article.slug).where(Article.slug.like(f"{base}%"), Article.id != (exclude_id or -1))
        )
    )
    taken |= {obj.slug for obj in db.session.new if isinstance(obj, Article)} | RESERVED_SLUGS
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def normalize_tags(tags: Iterable[str] | str) -> list[str]:
    """Lowercase, trimmed, de-duplicated tags in their given order; accepts 'a, b' or a list."""
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: list[str] = []
    for tag in tags:
        clean = re.sub(r"\s+", "-", str(tag).strip().lower())
        if clean and clean not in seen:
            seen.append(clean)
    return seen


def normalize_versions(versions: Iterable[str] | str) -> list[str]:
    if isinstance(versions, str):
        versions = versions.split(",")
    seen: list[str] = []
    for version in versions:
        clean = str(version).strip()
        if clean and clean not in seen:
            seen.append(clean)
    return seen


def validate_tags(tags: list[str], max_tags: int, max_length: int) -> None:
    if len(tags) > max_tags:
        raise EditError(f"Use at most {max_tags} tags.")
    for tag in tags:
        if len(tag) > max_length:
            raise EditError(f"The tag “{tag[:max_length]}…” is longer than {max_length} characters.")
        if not TAG_PATTERN.match(tag):
            raise EditError(f"The tag “{tag}” may only contain letters, digits, dots, plus signs and hyphens.")


def validate_versions(versions: list[str]) -> None:
    for version in versions:
        if not VERSION_PATTERN.match(version):
            raise EditError(f"“{version}” is not a product version like 8.0.")


def set_tags(article: Article, tags: Iterable[str]) -> None:
    """Replace the article's tags, keeping rows that did not change."""
    wanted = normalize_tags(list(tags))
    keep = [row for row in article.tag_rows if row.tag in wanted]
    have = {row.tag for row in keep}
    article.tag_rows = keep + [ArticleTag(tag=tag) for tag in wanted if tag not in have]


def render_into(article: Article) -> None:
    """Render the body once and store the sanitized HTML, contents and search text on the row."""
    rendered = render_article(article.body)
    article.html = rendered.html
    article.toc_html = rendered.toc_html
    article.plain_text = rendered.plain_text
    article.headings = [text for _, _, text in rendered.headings]
    article.render_version = RENDER_VERSION


def rerender_outdated() -> int:
    """Render again every article whose stored HTML came from an older pipeline; returns how many."""
    stale = db.session.scalars(select(Article).where(Article.render_version != RENDER_VERSION)).all()
    for article in stale:
        render_into(article)
    return len(stale)


def add_revision(article: Article, editor, message: str = "") -> Revision:
    revision = Revision(
        article=article,
        title=article.title,
        summary=article.summary or "",
        body=article.body,
        editor=editor,
        message=(message or "")[:200],
        created_at=utcnow(),
    )
    db.session.add(revision)
    return revision


def apply_changes(
    article: Article,
    *,
    title: str,
    body: str,
    summary: str = "",
    type: ArticleType | str | None = None,
    category: Category | None = None,
    tags: Iterable[str] | None = None,
    versions: Iterable[str] | None = None,
    editor=None,
    message: str = "",
) -> Revision | None:
    """Save new words and metadata; a revision is kept whenever the title, summary or body changed."""
    words_changed = article.id is None or (article.title, article.summary or "", article.body) != (title, summary or "", body)
    article.title = title.strip()
    article.summary = (summary or "").strip()
    if article.body != body or not article.html:
        article.body = body
        render_into(article)
    if type is not None:
        article.type = ArticleType(type)
    article.category = category
    if tags is not None:
        set_tags(article, tags)
    if versions is not None:
        article.versions = normalize_versions(list(versions))
    article.updated_at = utcnow()
    if words_changed:
        return add_revision(article, editor, message)
    return None


def create_article(
    *,
    title: str,
    body: str,
    author=None,
    summary: str = "",
    slug: str | None = None,
    type: ArticleType | str = ArticleType.HOW_TO,
    category: Category | None = None,
    tags: Iterable[str] = (),
    versions: Iterable[str] = (),
    status: ArticleStatus | str = ArticleStatus.DRAFT,
    message: str = "Created",
    source_url: str | None = None,
) -> Article:
    """A new article with its first revision; published now if created with status published."""
    article = Article(
        slug=slug or unique_slug(title),
        title=title.strip(),
        body="",
        author=author,
        status=ArticleStatus(status),
        source_url=source_url,
        created_at=utcnow(),
        helpful_yes=0,
        helpful_no=0,
        versions=[],
        headings=[],
    )
    db.session.add(article)
    apply_changes(
        article, title=title, body=body, summary=summary, type=type, category=category, tags=tags,
        versions=versions, editor=author, message=message,
    )
    if article.status is ArticleStatus.PUBLISHED:
        article.published_at = utcnow()
    return article


def create_draft(title: str, body: str, author, summary: str = "", source_url: str | None = None, *,
                 category: Category | None = None, tags: Iterable[str] = (), versions: Iterable[str] = ()) -> Article:
    """A draft article for staff to finish, e.g. from a solved forum thread (no commit)."""
    return create_article(
        title=title, body=body, author=author, summary=summary[:300], source_url=source_url,
        category=category, tags=tags, versions=versions,
        status=ArticleStatus.DRAFT, message="Draft created" + (f" from {source_url}" if source_url else ""),
    )


def publish(article: Article) -> None:
    if article.status is not ArticleStatus.PUBLISHED:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = article.published_at or utcnow()
        article.updated_at = utcnow()


def archive(article: Article) -> None:
    if article.status is not ArticleStatus.ARCHIVED:
        article.status = ArticleStatus.ARCHIVED
        article.updated_at = utcnow()


def unpublish(article: Article) -> None:
    article.status = ArticleStatus.DRAFT
    article.updated_at = utcnow()


def restore_revision(article: Article, revision: Revision, editor) -> Revision:
    """Bring back an old revision's words as a new revision, so the history stays complete."""
    if revision.article_id != article.id:
        raise EditError("That revision belongs to another article.")
    number = revision_number(article, revision)
    new = apply_changes(
        article, title=revision.title, body=revision.body, summary=revision.summary, category=article.category,
        editor=editor, message=f"Restored revision {number}",
    )
    return new or add_revision(article, editor, f"Restored revision {number}")


def revision_number(article: Article, revision: Revision) -> int:
    """Revisions are numbered 1, 2, 3 ... in the order they were saved."""
    return db.session.scalar(
        select(func.count(Revision.id)).where(Revision.article_id == article.id, Revision.id <= revision.id)
    ) or 0


def mark_reviewed(article: Article, reviewer, verified_version: str | None) -> None:
    """Record who checked the article, when, and for which product version it is verified."""
    article.reviewed_at = utcnow()
    article.reviewed_by = reviewer
    if verified_version:
        article.verified_version = verified_version


def revision_diff(old: Revision, new: Revision, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """A line diff of two revisions as (kind, line) pairs; kind is 'add', 'del', 'hunk' or 'same'."""
    old_lines = [f"# {old.title}", ""] + (old.body or "").splitlines()
    new_lines = [f"# {new.title}", ""] + (new.body or "").splitlines()
    if old.summary != new.summary:
        old_lines.insert(1, f"Summary: {old.summary}")
        new_lines.insert(1, f"Summary: {new.summary}")
    rows: list[tuple[str, str]] = []
    for line in unified_diff(old_lines, new_lines, old_label, new_label, n=3, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            rows.append(("hunk", line))
        elif line.startswith("+"):
            rows.append(("add", line[1:]))
        elif line.startswith("-"):
            rows.append(("del", line[1:]))
        else:
            rows.append(("same", line[1:]))
    return rows


def record_feedback(article: Article, helpful: bool, comment: str, user=None, session_key: str | None = None) -> tuple[Feedback, bool]:
    """Keep one vote per user (or anonymous session); voting again changes the earlier vote.

    Returns the feedback row and whether it is new. Counters on the article move with the vote.
    """
    if user is not None and getattr(user, "is_authenticated", False):
        existing = db.session.scalar(select(Feedback).where(Feedback.article_id == article.id, Feedback.user_id == user.id))
        owner = {"user_id": user.id}
    elif session_key:
        existing = db.session.scalar(
            select(Feedback).where(Feedback.article_id == article.id, Feedback.session_key == session_key)
        )
        owner = {"session_key": session_key}
    else:
        raise EditError("A vote needs a signed-in user or a browser session.")
    if existing is not None:
        if existing.helpful != helpful:
            _count_vote(article, existing.helpful, -1)
            _count_vote(article, helpful, +1)
            existing.helpful = helpful
        if comment:
            existing.comment = comment
        existing.created_at = utcnow()
        return existing, False
    feedback = Feedback(article_id=article.id, helpful=helpful, comment=comment or "", created_at=utcnow(), **owner)
    db.session.add(feedback)
    _count_vote(article, helpful, +1)
    return feedback, True


def _count_vote(article: Article, helpful: bool, delta: int) -> None:
    """Move a counter in SQL (column = column + 1) so simultaneous votes are never lost."""
    column = Article.helpful_yes if helpful else Article.helpful_no
    setattr(article, column.key, column + delta)
