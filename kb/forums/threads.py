"""Threads and posts: creating, replying, editing, deleting, accepting, liking, and the lists they appear in."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import joinedload

from kb.extensions import db
from kb.forums import permissions
from kb.forums.models import (
    ForumCategory,
    Post,
    PostLike,
    PostRevision,
    Subscription,
    Thread,
)
from kb.types import utcnow
from kb.urls import slugify


# Thread addresses carry a short slug after the id; the id alone identifies the thread.
THREAD_SLUG_MAX_LENGTH = 80


class ForumError(ValueError):
    """A user-facing reason an action was refused, with the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def render_markdown(text: str) -> str:
    """The shared community pipeline: Markdown, linkified, sanitized, images from allowed hosts only."""
    from kb.markup import render_post

    return render_post(text, image_hosts=current_app.config.get("IMAGE_HOSTS") or [])


def render_into(post: Post) -> None:
    """Store the post's sanitized HTML and the pipeline version that made it."""
    from kb.markup import RENDER_VERSION

    post.body_html = render_markdown(post.body)
    post.render_version = RENDER_VERSION


def rerender_outdated(batch: int = 500) -> int:
    """Render again every post whose stored HTML came from an older pipeline, in batches; returns how many."""
    from kb.markup import RENDER_VERSION

    done = 0
    while True:
        stale = db.session.scalars(
            select(Post).where(Post.render_version != RENDER_VERSION).order_by(Post.id).limit(batch)
        ).all()
        if not stale:
            return done
        for post in stale:
            render_into(post)
        db.session.flush()
        done += len(stale)


def parse_tags(raw: str | list | None) -> list[str]:
    """Comma- or space-separated tags, lower-cased; raises ForumError when over the configured limits."""
    if isinstance(raw, list):
        parts = raw
    else:
        parts = re.split(r"[,\s]+", raw or "")
    tags: list[str] = []
    max_length = current_app.config["FORUMS_TAG_MAX_LENGTH"]
    for part in parts:
        tag = re.sub(r"[^a-z0-9.+#-]", "", part.strip().lower().lstrip("#"))
        if not tag:
            continue
        if len(tag) > max_length:
            raise ForumError(f"Each tag may be at most {max_length} characters ({tag[:20]}… is longer).")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > current_app.config["FORUMS_TAGS_MAX"]:
        raise ForumError(f"Use at most {current_app.config['FORUMS_TAGS_MAX']} tags.")
    return tags


def create_thread(category: ForumCategory, author, title: str, body: str, tags: list[str] | None = None) -> Thread:
    """A new thread with its opening post; the author watches it from the start."""
    now = utcnow()
    title = " ".join(title.split())
    thread = Thread(
        category=category,
        author=author,
        title=title,
        slug=slugify(title, THREAD_SLUG_MAX_LENGTH),
        tags=tags or [],
        created_at=now,
        last_activity_at=now,
    )
    post = Post(thread=thread, author=author, is_first=True, body=body, created_at=now)
    render_into(post)
    db.session.add_all([thread, post, Subscription(user=author, thread=thread)])
    return thread


def add_reply(thread: Thread, author, body: str) -> Post:
    now = utcnow()
    post = Post(thread=thread, author=author, body=body, created_at=now)
    render_into(post)
    db.session.add(post)
    thread.reply_count = (thread.reply_count or 0) + 1
    thread.last_activity_at = now
    return post


def first_post(thread: Thread) -> Post | None:
    """The opening post (the question), with its author."""
    return db.session.scalar(
        select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(True)).options(joinedload(Post.author))
    )


def replies_query(thread: Thread) -> Select:
    """The thread's replies in the order they were written, authors loaded in the same query."""
    return (
        select(Post)
        .where(Post.thread_id == thread.id, Post.is_first.is_(False))
        .options(joinedload(Post.author))
        .order_by(Post.id)
    )


def post_page(post: Post, per_page: int) -> int:
    """The page of its thread that shows a reply (the question is always on page 1)."""
    if post.is_first:
        return 1
    earlier = db.session.scalar(
        select(func.count(Post.id)).where(Post.thread_id == post.thread_id, Post.is_first.is_(False), Post.id < post.id)
    )
    return earlier // per_page + 1


def revisions(post: Post) -> list[PostRevision]:
    """Earlier versions of a post, newest first, with their editors."""
    return list(
        db.session.scalars(
            select(PostRevision).where(PostRevision.post_id == post.id).options(joinedload(PostRevision.editor))
            .order_by(PostRevision.id.desc())
        )
    )


def quote_markdown(post: Post) -> str:
    """The post as a Markdown quote to start a reply with."""
    lines = post.body.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"**{post.author.display_name}** wrote:\n\n{quoted}\n\n"


def edit_post(post: Post, editor, body: str, title: str | None = None, tags: list[str] | None = None) -> None:
    """Keep the old text as a revision, then apply the new one and mark the post edited."""
    thread = post.thread
    old_title = thread.title if post.is_first else None
    changed = body != post.body or (post.is_first and title is not None and " ".join(title.split()) != thread.title)
    if post.is_first and tags is not None:
        thread.tags = tags
    if not changed:
        return
    db.session.add(PostRevision(post_id=post.id, editor_id=editor.id, title=old_title, body=post.body))
    post.body = body
    render_into(post)
    post.edited_at = utcnow()
    if post.is_first and title is not None:
        thread.title = " ".join(title.split())
        thread.slug = slugify(thread.title, THREAD_SLUG_MAX_LENGTH)


def _sync_removed(post: Post) -> None:
    if post.is_first:
        post.thread.removed = not post.visible


def delete_post(post: Post, user) -> None:
    """Soft delete: the text stays for staff, who can restore it."""
    was_visible = post.visible
    post.deleted_at = utcnow()
    post.deleted_by_id = user.id
    thread = post.thread
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
    if was_visible and not post.is_first:
        thread.reply_count = max(0, thread.reply_count - 1)
    _sync_removed(post)


def hide_post(post: Post, moderator) -> None:
    if post.hidden_at is None:
        post.hidden_at = utcnow()
        post.hidden_by_id = moderator.id
        if post.thread.accepted_post_id == post.id:
            post.thread.accepted_post_id = None
        if not post.is_first and post.deleted_at is None:
            post.thread.reply_count = max(0, post.thread.reply_count - 1)
    _sync_removed(post)


def restore_post(post: Post) -> None:
    """Undo a deletion or a hide."""
    was_visible = post.visible
    post.hidden_at = post.hidden_by_id = None
    post.deleted_at = post.deleted_by_id = None
    if not was_visible and not post.is_first:
        post.thread.reply_count += 1
    _sync_removed(post)


def accept_post(post: Post) -> None:
    """Mark a reply as the accepted answer; accepting the current answer again un-accepts it."""
    thread = post.thread
    if post.is_first:
        raise ForumError("The question itself cannot be its own answer; accept one of the replies.")
    if not post.visible:
        raise ForumError("A removed post cannot be the accepted answer.")
    thread.accepted_post_id = None if thread.accepted_post_id == post.id else post.id


def toggle_like(post: Post, user) -> bool:
    """Like or un-like a post (one like per user); returns whether the user now likes it."""
    if post.author_id == user.id:
        raise ForumError("You cannot like your own post.")
    existing = db.session.scalar(select(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == user.id))
    if existing is not None:
        db.session.delete(existing)
        db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count - 1))
        liked = False
    else:
        db.session.add(PostLike(post_id=post.id, user_id=user.id))
        db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1))
        liked = True
    db.session.expire(post, ["like_count"])
    return liked


# --- Lists -------------------------------------------------------------------------------------

def readable_categories(user) -> list[ForumCategory]:
    levels = permissions.readable_levels(user)
    return list(
        db.session.scalars(
            select(ForumCategory).where(ForumCategory.read_access.in_(levels)).order_by(ForumCategory.position, ForumCategory.name)
        )
    )


def visible_threads(user) -> Select:
    """Threads in categories the user can read, without removed ones (except for staff)."""
    query = (
        select(Thread)
        .join(Thread.category)
        .where(ForumCategory.read_access.in_(permissions.readable_levels(user)))
        .options(joinedload(Thread.author), joinedload(Thread.category))
    )
    if not permissions.is_staff(user):
        query = query.where(Thread.removed.is_(False))
    return query


FILTERS = ("unanswered", "solved", "mine")


def filtered(query: Select, filter_name: str | None, user) -> Select:
    if filter_name == "unanswered":
        query = query.where(Thread.reply_count == 0, Thread.accepted_post_id.is_(None))
    elif filter_name == "solved":
        query = query.where(Thread.accepted_post_id.is_not(None))
    elif filter_name == "mine" and getattr(user, "is_authenticated", False):
        replied = exists().where(Post.thread_id == Thread.id, Post.author_id == user.id)
        query = query.where(or_(Thread.author_id == user.id, replied))
    return query


def by_activity(query: Select, pinned_first: bool = True) -> Select:
    order = [Thread.last_activity_at.desc(), Thread.id.desc()]
    if pinned_first:
        order = [Thread.announcement.desc(), Thread.pinned.desc(), *order]
    return query.order_by(*order)


def latest(user, limit: int) -> list[Thread]:
    """The front page's Latest: threads with the newest activity across every category the user may read."""
    return list(db.session.scalars(by_activity(visible_threads(user), pinned_first=False).limit(limit)))


def unanswered(user, limit: int) -> list[Thread]:
    """The front page's Unanswered, as Discourse counts it: questions nobody has replied to yet, newest first.

    A reply that was not accepted still counts as an answer (Discourse's "no replies" filter, not the
    Solved plugin's "unsolved"). Announcements, locked threads and threads in broadcast categories (where
    only staff post for a wider audience, e.g. Announcements) are not questions waiting for an answer.
    """
    broadcast = [c.id for c in readable_categories(user) if permissions.is_broadcast(c)]
    query = filtered(visible_threads(user), "unanswered", user).where(
        Thread.announcement.is_(False), Thread.locked.is_(False), Thread.removed.is_(False),
        Thread.category_id.not_in(broadcast),
    )
    return list(db.session.scalars(query.order_by(Thread.created_at.desc(), Thread.id.desc()).limit(limit)))


def postable_categories(user) -> list[ForumCategory]:
    """The categories the user may start a thread in: the composer's choices."""
    return [category for category in readable_categories(user) if permissions.can_post(user, category)]


def askable_categories(user) -> list[ForumCategory]:
    """Where to invite the user to ask: where they may post, or (signed out) where signing in lets them."""
    if getattr(user, "is_authenticated", False):
        return postable_categories(user)
    return [category for category in readable_categories(user) if permissions.invites_questions(user, category)]


def announcements(user, limit: int) -> list[Thread]:
    """The latest announcements the user may read, for the forum index."""
    query = visible_threads(user).where(Thread.announcement.is_(True))
    return list(db.session.scalars(by_activity(query, pinned_first=False).limit(limit)))


def feed_threads(category: ForumCategory, limit: int) -> tuple[list[Thread], dict[int, Post]]:
    """A category's newest threads and their opening posts (by thread id), for its Atom feed."""
    items = db.session.scalars(
        select(Thread)
        .where(Thread.category_id == category.id, Thread.removed.is_(False))
        .options(joinedload(Thread.author))
        .order_by(Thread.created_at.desc(), Thread.id.desc())
        .limit(limit)
    ).all()
    first_posts = {
        p.thread_id: p
        for p in db.session.scalars(select(Post).where(Post.thread_id.in_([t.id for t in items]), Post.is_first.is_(True)))
    }
    return list(items), first_posts


def category_stats(category_ids: list[int], user) -> dict[int, tuple[int, object]]:
    """Thread count and latest activity per category, in one query."""
    if not category_ids:
        return {}
    query = select(Thread.category_id, func.count(Thread.id), func.max(Thread.last_activity_at)).where(
        Thread.category_id.in_(category_ids)
    )
    if not permissions.is_staff(user):
        query = query.where(Thread.removed.is_(False))
    rows = db.session.execute(query.group_by(Thread.category_id)).all()
    return {category_id: (count, latest) for category_id, count, latest in rows}


def liked_post_ids(user, post_ids: list[int]) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not post_ids:
        return set()
    return set(db.session.scalars(select(PostLike.post_id).where(PostLike.user_id == user.id, PostLike.post_id.in_(post_ids))))
