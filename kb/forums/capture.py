"""Knowledge capture: a draft knowledge-base article built from a solved thread."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import ForumCategory, Post, Thread
from kb.markup import to_plain_text

# Code blocks and tables say nothing a one-paragraph summary can use; they are left out of it.
_NOT_PROSE = re.compile(r"<(pre|table)\b[^>]*>.*?</\1>", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_VERSION = re.compile(r"^\d+(?:\.\d+)+[a-z0-9]*$")


def plain_summary(question_html: str, limit: int) -> str:
    """The question's first sentences as plain text (no code, no Markdown), at most ``limit`` characters."""
    text = to_plain_text(_NOT_PROSE.sub(" ", question_html or ""))
    summary = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{summary} {sentence}".strip()
        if len(candidate) > limit:
            break
        summary = candidate
    if not summary and text:  # one long sentence: cut at a word
        summary = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return summary


def split_tags(tags: list[str], known_versions: list[str]) -> tuple[list[str], list[str]]:
    """A thread's tags as (topic tags, product versions): "8.0" or a configured version is a version."""
    versions = [tag for tag in tags if tag in known_versions or _VERSION.match(tag)]
    return [tag for tag in tags if tag not in versions], versions


def article_category_for(category: ForumCategory):
    """The knowledge-base category a forum category maps to (FORUMS_ARTICLE_CATEGORIES, else the same slug or name)."""
    from kb.articles.models import Category

    mapping = current_app.config.get("FORUMS_ARTICLE_CATEGORIES") or {}
    slug = mapping.get(category.slug, category.slug)
    found = db.session.scalar(select(Category).where(Category.slug == slug))
    if found is None:
        found = db.session.scalar(select(Category).where(func.lower(Category.name) == category.name.lower()))
    return found


def article_body(thread, question, answer, source_url: str) -> tuple[str, str, str]:
    """(title, body, summary) for a draft: the question, the accepted answer, and a link back."""
    title = thread.title
    summary = plain_summary(question.body_html, current_app.config["ARTICLE_SUMMARY_MAX_LENGTH"])
    body = (
        "## The question\n\n"
        f"{question.body.strip()}\n\n"
        "## The answer\n\n"
        f"{answer.body.strip()}\n\n"
        "---\n\n"
        f"Drafted from the community thread [{thread.title}]({source_url}), answered by "
        f"{answer.author.display_name}. Rewrite it as a how-to or troubleshooting article before publishing.\n"
    )
    return title, body, summary


def article_for(thread: Thread):
    """The article captured from this thread, if any (drafts included)."""
    if not thread.article_id:
        return None
    from kb.articles.models import Article

    return db.session.get(Article, thread.article_id)


def capture_thread(thread: Thread, author, source_url: str):
    """Create the draft article from the question and its accepted answer and link it to the thread (no commit).

    The draft starts in the knowledge-base category matching the thread's, with its tags and versions.
    """
    from kb.articles.editing import create_draft

    question = threads.first_post(thread)
    answer = db.session.get(Post, thread.accepted_post_id)
    title, body, summary = article_body(thread, question, answer, source_url)
    tags, versions = split_tags(list(thread.tags or []), list(current_app.config.get("PRODUCT_VERSIONS") or []))
    article = create_draft(title, body, author, summary=summary, source_url=source_url,
                           category=article_category_for(thread.category), tags=tags, versions=versions)
    db.session.flush()
    thread.article_id = article.id
    return article
