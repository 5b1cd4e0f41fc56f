"""Fixtures for the knowledge-base tests: categories, articles, and content folders in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kb.articles import editing
from kb.articles.models import Category
from kb.extensions import db


@pytest.fixture
def category(app):
    cat = Category(name="Networking", slug="networking", description="Ports and firewalls.", position=1)
    db.session.add(cat)
    db.session.commit()
    return cat


@pytest.fixture
def other_category(app):
    cat = Category(name="Upgrades", slug="upgrades", description="Versions.", position=2)
    db.session.add(cat)
    db.session.commit()
    return cat


@pytest.fixture
def make_article(app, category):
    """Create and commit an article; published unless told otherwise."""

    def make(title="Open the replication ports", body="## Ports\n\nOpen TCP 9071.\n", status="published",
             tags=("ports", "firewall"), type="how-to", cat=category, summary="Which ports to open.",
             versions=("8.0",), author=None, slug=None):
        article = editing.create_article(title=title, body=body, summary=summary, type=type, category=cat,
                                         tags=tags, versions=versions, status=status, author=author, slug=slug)
        db.session.commit()
        return article

    return make


CATEGORIES_YML = """\
- name: Networking
  slug: networking
  description: Ports and firewalls.
  position: 1
- name: Upgrades
  slug: upgrades
  description: Versions and upgrade order.
  position: 2
"""


def article_text(title="Open the replication ports", slug=None, type="how-to", category="networking",
                 tags="[ports, firewall]", status="published", body="## Ports\n\nOpen TCP 9071.\n",
                 versions='["7.3", "8.0"]', summary="Which ports to open.") -> str:
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    if slug:
        lines.append(f"slug: {slug}")
    lines += [f"type: {type}", f"category: {category}", f"tags: {tags}", f"summary: {summary}",
              f"versions: {versions}", f"status: {status}", "---", "", body]
    return "\n".join(lines)


class ContentFolder:
    """A content/ folder a test writes files into."""

    def __init__(self, root: Path):
        self.root = root
        (root / "articles").mkdir(parents=True, exist_ok=True)
        (root / "categories.yml").write_text(CATEGORIES_YML)

    def write(self, name: str, text: str) -> Path:
        path = self.root / "articles" / name
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return path

    def article(self, name: str, **fields) -> Path:
        return self.write(name, article_text(**fields))


@pytest.fixture
def content(tmp_path) -> ContentFolder:
    return ContentFolder(tmp_path / "content")
