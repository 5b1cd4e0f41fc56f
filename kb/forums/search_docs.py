"""Forum threads as plain search documents for kb.search (which never imports forums)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kb.extensions import db
from kb.forums.models import ForumCategory, Post, Thread
from kb.forums.permissions import visibility_token
from kb.forums.urls import thread_url
from kb.markup import to_plain_text
from kb.search.documents import SearchDoc


def build_thread_docs(ids) -> dict[int, SearchDoc | None]:
    """One document per thread id: visible posts only; None for threads that are gone or removed."""
    ids = [int(i) for i in ids]
    result: dict[int, SearchDoc | None] = {i: None for i in ids}
    if not ids:
        return result
    threads = db.session.scalars(
        select(Thread).where(Thread.id.in_(ids)).options(joinedload(Thread.category))
    ).all()
    posts_by_thread: dict[int, list[Post]] = {}
    for post in db.session.scalars(
        select(Post)
        .where(Post.thread_id.in_(ids), Post.hidden_at.is_(None), Post.deleted_at.is_(None))
        .order_by(Post.thread_id, Post.id)
    ):
        posts_by_thread.setdefault(post.thread_id, []).append(post)
    for thread in threads:
        posts = posts_by_thread.get(thread.id, [])
        if thread.removed or not posts or not posts[0].is_first:
            continue
        accepted = next((p for p in posts if p.id == thread.accepted_post_id), None)
        texts = {p.id: to_plain_text(p.body_html) for p in posts}
        result[thread.id] = SearchDoc(
            kind="thread",
            id=thread.id,
            title=thread.title,
            body="\n\n".join(texts[p.id] for p in posts),
            url=thread_url(thread),
            updated=thread.last_activity_at,
            visibility=visibility_token(thread.category),
            tags=list(thread.tags or []),
            category=thread.category.slug,
            category_name=thread.category.name,
            summary=texts[accepted.id if accepted else posts[0].id][:240],
            badges=["solved"] if thread.accepted_post_id is not None else [],
        )
    return result


def all_thread_ids() -> list[int]:
    return list(db.session.scalars(select(Thread.id).order_by(Thread.id)))


def category_thread_ids(category: ForumCategory) -> list[int]:
    with db.session.no_autoflush:
        return list(db.session.scalars(select(Thread.id).where(Thread.category_id == category.id)))
