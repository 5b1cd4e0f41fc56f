"""Forum categories from content/forums.yml: validated, then created when missing (admins' edits win)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import select

from kb.extensions import db
from kb.forums.models import Access, ForumCategory
from kb.hooks import InitStepError

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words that would collide with forum URLs if used as a category slug.
RESERVED_SLUGS = {"new", "answers", "unsubscribe", "notifications"}


class SeedError(ValueError):
    """The categories file is not usable; the message names the entry and the problem."""


def categories_file() -> Path:
    configured = current_app.config.get("FORUMS_CATEGORIES_FILE")
    return Path(configured) if configured else Path(current_app.config["CONTENT_DIR"]) / "forums.yml"


def validate_access(value, field: str, where: str) -> Access:
    value = str(value).strip().lower()
    try:
        return Access(value)
    except ValueError:
        raise SeedError(f"{where}: {field} must be one of {', '.join(Access)}, not {value!r}.") from None


def validate_slug(slug: str, where: str = "category") -> str:
    if not _SLUG.match(slug or "") or len(slug) > 80:
        raise SeedError(f"{where}: slug {slug!r} must be lower-case letters, digits and single hyphens.")
    if slug in RESERVED_SLUGS:
        raise SeedError(f"{where}: slug {slug!r} is reserved by the forum's own pages.")
    return slug


def load_categories(path: Path) -> list[dict]:
    """Read and check every entry; raises SeedError with a clear message on the first problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("categories") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SeedError(f"{path}: expected a list under 'categories'.")
    seen: set[str] = set()
    result = []
    for number, entry in enumerate(entries, 1):
        where = f"{path.name} entry {number}"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("slug"):
            raise SeedError(f"{where}: each category needs a name and a slug.")
        slug = validate_slug(str(entry["slug"]), where)
        if slug in seen:
            raise SeedError(f"{where}: slug {slug!r} is used twice.")
        seen.add(slug)
        result.append(
            {
                "slug": slug,
                "name": str(entry["name"]).strip(),
                "description": str(entry.get("description") or "").strip(),
                "position": int(entry.get("position", number * 10)),
                "read_access": validate_access(entry.get("read", "everyone"), "read", where),
                "post_access": validate_access(entry.get("post", "users"), "post", where),
            }
        )
    return result


def seed_categories(path: Path | None = None) -> tuple[int, int]:
    """Create the categories that do not exist yet; returns (created, already present)."""
    entries = load_categories(path or categories_file())
    existing = set(db.session.scalars(select(ForumCategory.slug)))
    created = 0
    for entry in entries:
        if entry["slug"] in existing:
            continue
        db.session.add(ForumCategory(**entry))
        created += 1
    return created, len(entries) - created


def init_step() -> str:
    """``kb init``: seed forum categories, idempotently; a missing file is a note, a broken one an error."""
    path = categories_file()
    if not path.is_file():
        return (
            f"No forum categories file at {path}, so none were created. To have kb init create them, write "
            "forums.yml there: a list under 'categories:' of entries with slug, name, description, position, "
            "read (everyone, users, staff or admin) and post (users, staff or admin), like the bundled one."
        )
    try:
        created, present = seed_categories(path)
    except (SeedError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InitStepError(f"{path}: {exc}") from None
    db.session.commit()
    return f"{created} forum categories created, {present} already present."
