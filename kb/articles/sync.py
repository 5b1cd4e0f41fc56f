"""Keep articles and the content/ folder in step: Markdown files with YAML front matter.

Import is idempotent: a new file creates an article, a changed file adds a revision, an
unchanged file does nothing, and a file whose article was changed on the web since the last
import or export is reported as a conflict instead of being overwritten. Export writes the
articles back so that importing right after exporting changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb.articles import editing
from kb.articles.models import Article, ArticleStatus, ArticleType, Category, Revision
from kb.extensions import db
from kb.images.content import import_images
from kb.images.reencode import ImageRefused

TYPES = [t.value for t in ArticleType]
STATUSES = [s.value for s in ArticleStatus]
FIELDS = ("title", "slug", "type", "category", "tags", "summary", "versions", "status")


class ContentError(ValueError):
    """A content file that cannot be imported, with the reason in words."""


@dataclass
class ArticleFile:
    """The normalised contents of one article file."""

    path: Path
    title: str
    slug: str
    type: str
    category: str
    tags: list[str]
    summary: str
    versions: list[str]
    status: str
    body: str

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.slug, self.type, self.category, self.tags, self.summary,
                            self.versions, self.status, self.body)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    categories_created: int = 0
    categories_updated: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.conflicts)} conflicts, {len(self.errors)} errors"
        )


def content_hash(title, slug, type, category, tags, summary, versions, status, body) -> str:
    """A fingerprint of everything a content file holds, independent of YAML formatting."""
    data = [title, slug, type, category or "", sorted(tags), summary or "", list(versions), status, (body or "").strip()]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def article_hash(article: Article) -> str:
    return content_hash(
        article.title, article.slug, article.type.value, article.category.slug if article.category else "",
        article.tags, article.summary, article.versions or [], article.status.value, article.body,
    )


def _text(meta: dict, key: str, default: str = "") -> str:
    value = meta.get(key, default)
    if value is None:
        return default
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ContentError(f"“{key}” must be text, not {type(value).__name__}")
    return str(value).strip()


def _list(meta: dict, key: str) -> list[str]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        raise ContentError(f"“{key}” must be a list, like [a, b]")
    return [str(v) for v in value]


def parse_article_file(path: Path, config) -> ArticleFile:
    """Read and check one article file; raises ContentError saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError("the file is not UTF-8 text") from None
    except OSError as exc:
        raise ContentError(f"cannot read the file ({exc.strerror})") from None
    if not text.lstrip("\ufeff").startswith("---"):
        raise ContentError("no front matter: the file must start with a '---' line, then YAML, then '---'")
    try:
        meta, body = frontmatter.parse(text.lstrip("\ufeff"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ContentError(f"the front matter is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(meta, dict) or not meta:
        raise ContentError("the front matter must be a YAML mapping of fields (title, slug, type ...)")
    unknown = sorted(set(map(str, meta)) - set(FIELDS))
    if unknown:
        raise ContentError(f"unknown front-matter field(s): {', '.join(unknown)}")
    title = _text(meta, "title")
    if not title:
        raise ContentError("the title is missing")
    if len(title) > config["ARTICLE_TITLE_MAX_LENGTH"]:
        raise ContentError(f"the title is longer than {config['ARTICLE_TITLE_MAX_LENGTH']} characters")
    slug = _text(meta, "slug") or path.stem
    if not editing.valid_slug(slug):
        raise ContentError(f"the slug “{slug}” must be lowercase letters, digits and single hyphens (not new or preview)")
    article_type = _text(meta, "type", "how-to")
    if article_type not in TYPES:
        raise ContentError(f"the type “{article_type}” is not one of {', '.join(TYPES)}")
    status = _text(meta, "status", "draft")
    if status not in STATUSES:
        raise ContentError(f"the status “{status}” is not one of {', '.join(STATUSES)}")
    summary = _text(meta, "summary")
    if len(summary) > config["ARTICLE_SUMMARY_MAX_LENGTH"]:
        raise ContentError(f"the summary is longer than {config['ARTICLE_SUMMARY_MAX_LENGTH']} characters")
    tags = editing.normalize_tags(_list(meta, "tags"))
    versions = editing.normalize_versions(_list(meta, "versions"))
    try:
        editing.validate_tags(tags, config["ARTICLE_TAGS_MAX"], config["ARTICLE_TAG_MAX_LENGTH"])
        editing.validate_versions(versions)
    except editing.EditError as exc:
        raise ContentError(str(exc)) from None
    if not body.strip():
        raise ContentError("the article has no body after the front matter")
    if len(body) > config["ARTICLE_BODY_MAX_LENGTH"]:
        raise ContentError(f"the body is longer than {config['ARTICLE_BODY_MAX_LENGTH']} characters")
    return ArticleFile(path, title, slug, article_type, _text(meta, "category"), tags, summary, versions, status,
                       body.strip())


def import_categories(content_dir: Path, report: SyncReport) -> None:
    """Create or update categories from categories.yml (a list of name, slug, description, position)."""
    path = content_dir / "categories.yml"
    if not path.exists():
        return
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        report.errors.append((str(path), f"not valid YAML: {exc}"))
        return
    if not isinstance(entries, list):
        report.errors.append((str(path), "must be a list of categories"))
        return
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    for number, entry in enumerate(entries, start=1):
        where = f"{path} (entry {number})"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("slug"):
            report.errors.append((where, "each category needs a name and a slug"))
            continue
        slug = str(entry["slug"]).strip()
        if not editing.SLUG_PATTERN.match(slug):
            report.errors.append((where, f"the slug “{slug}” must be lowercase letters, digits and single hyphens"))
            continue
        try:
            position = int(entry.get("position", number))
        except (TypeError, ValueError):
            report.errors.append((where, "position must be a whole number"))
            continue
        values = {"name": str(entry["name"]).strip(), "description": str(entry.get("description") or "").strip(),
                  "position": position}
        category = existing.get(slug)
        if category is None:
            category = Category(slug=slug, **values)
            db.session.add(category)
            existing[slug] = category
            report.categories_created += 1
        elif any(getattr(category, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(category, key, value)
            report.categories_updated += 1


def article_files(content_dir: Path) -> list[Path]:
    folder = content_dir / "articles"
    return sorted(folder.glob("*.md")) if folder.is_dir() else []


Progress = Callable[[list[Path]], object]


def import_content(content_dir: Path | str, config, progress: Progress | None = None) -> SyncReport:
    """Import categories.yml, then every articles/*.md file; the caller commits."""
    content_dir = Path(content_dir)
    report = SyncReport()
    if not content_dir.is_dir():
        report.errors.append((str(content_dir), "the content folder does not exist"))
        return report
    import_categories(content_dir, report)
    db.session.flush()
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    articles = {
        a.slug: a for a in db.session.scalars(
            select(Article).options(selectinload(Article.tag_rows), selectinload(Article.category))
        )
    }
    latest = dict(db.session.execute(select(Revision.article_id, func.max(Revision.id)).group_by(Revision.article_id)).all())
    seen: dict[str, Path] = {}
    files = article_files(content_dir)
    with (progress(files) if progress else nullcontext(files)) as items:
        for path in items:
            try:
                parsed = parse_article_file(path, config)
                if parsed.slug in seen:
                    raise ContentError(f"the slug “{parsed.slug}” is also used by {seen[parsed.slug].name}")
                if parsed.category and parsed.category not in categories:
                    raise ContentError(f"the category “{parsed.category}” is not in categories.yml")
                parsed.body = _with_bundled_images(parsed, content_dir)
            except ContentError as exc:
                report.errors.append((str(path), str(exc)))
                continue
            seen[parsed.slug] = path
            _import_one(parsed, articles.get(parsed.slug), categories, latest, report)
    return report


def _with_bundled_images(parsed: ArticleFile, content_dir: Path) -> str:
    """The body with images shipped beside the file imported and linked by their site address."""
    if "![" not in parsed.body:
        return parsed.body
    try:
        return import_images(parsed.body, parsed.path, content_dir)
    except ImageRefused as exc:
        raise ContentError(exc.message) from None


def _apply_status(article: Article, status: str) -> None:
    {"published": editing.publish, "archived": editing.archive, "draft": editing.unpublish}[status](article)


def _import_one(parsed: ArticleFile, article: Article | None, categories: dict, latest: dict, report: SyncReport) -> None:
    name = parsed.path.name
    category = categories.get(parsed.category)
    if article is None:
        article = editing.create_article(
            title=parsed.title, body=parsed.body, summary=parsed.summary, slug=parsed.slug, type=parsed.type,
            category=category, tags=parsed.tags, versions=parsed.versions, status=parsed.status,
            message=f"Imported from {name}",
        )
        db.session.flush()
        _mark_synced(article, parsed.content_hash)
        report.created.append(parsed.slug)
        return
    file_hash = parsed.content_hash
    if article_hash(article) == file_hash:
        if article.content_hash != file_hash:
            article.content_hash = file_hash
            article.imported_revision_id = latest.get(article.id)
        report.unchanged.append(parsed.slug)
        return
    if article.content_hash == file_hash:
        # The file has not changed since it was imported; newer web edits stay.
        report.unchanged.append(parsed.slug)
        return
    if article.content_hash is None or article_hash(article) != article.content_hash:
        report.conflicts.append(
            (str(parsed.path), "the article was changed on the web since the last import; export it or merge by hand")
        )
        return
    editing.apply_changes(
        article, title=parsed.title, body=parsed.body, summary=parsed.summary, type=parsed.type, category=category,
        tags=parsed.tags, versions=parsed.versions, message=f"Imported from {name}",
    )
    _apply_status(article, parsed.status)
    db.session.flush()
    _mark_synced(article, file_hash)
    report.updated.append(parsed.slug)


def _mark_synced(article: Article, file_hash: str) -> None:
    article.content_hash = file_hash
    article.imported_revision_id = db.session.scalar(select(func.max(Revision.id)).where(Revision.article_id == article.id))


def render_file(article: Article) -> str:
    """The content-file text of an article: YAML front matter, a blank line, the Markdown body."""
    meta = {
        "title": article.title,
        "slug": article.slug,
        "type": article.type.value,
        "category": article.category.slug if article.category else "",
        "tags": list(article.tags),
        "summary": article.summary or "",
        "versions": list(article.versions or []),
        "status": article.status.value,
    }
    if not meta["category"]:
        del meta["category"]
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=None)
    return f"---\n{head}---\n\n{article.body.strip()}\n"


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.unchanged)} unchanged"


def export_content(content_dir: Path | str, config, progress: Progress | None = None) -> ExportReport:
    """Write categories.yml and one file per article; the caller commits (articles are marked synced)."""
    content_dir = Path(content_dir)
    folder = content_dir / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    categories = list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))
    cat_text = yaml.safe_dump(
        [{"name": c.name, "slug": c.slug, "description": c.description, "position": c.position} for c in categories],
        sort_keys=False, allow_unicode=True, width=4096,
    )
    cat_path = content_dir / "categories.yml"
    if not cat_path.exists() or cat_path.read_text(encoding="utf-8") != cat_text:
        cat_path.write_text(cat_text, encoding="utf-8")
    # Write back to the file an article came from, even when its name differs from the slug.
    existing: dict[str, Path] = {}
    for path in article_files(content_dir):
        try:
            existing.setdefault(parse_article_file(path, config).slug, path)
        except ContentError:
            continue
    articles = list(
        db.session.scalars(
            select(Article).options(selectinload(Article.tag_rows), selectinload(Article.category)).order_by(Article.slug)
        )
    )
    with (progress(articles) if progress else nullcontext(articles)) as items:
        for article in items:
            path = existing.get(article.slug, folder / f"{article.slug}.md")
            text = render_file(article)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                report.unchanged.append(article.slug)
            else:
                path.write_text(text, encoding="utf-8")
                report.written.append(article.slug)
            _mark_synced(article, article_hash(article))
    return report
