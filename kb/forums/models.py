"""Forum categories, threads, posts and everything that hangs off them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.accounts.models import Role, User, str_enum
from kb.extensions import db
from kb.types import utcnow

class Access(enum.StrEnum):
    """Who may read a category or start threads in it: everyone, any signed-in user, or a role and above."""

    EVERYONE = "everyone"
    USERS = "users"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def role(self) -> Role | None:
        """The lowest role admitted, for the levels named after a role; None for everyone and users."""
        return Role(self.value) if self.value in {r.value for r in Role} else None

    @property
    def label(self) -> str:
        return _ACCESS_LABELS[self]


_ACCESS_LABELS = {
    Access.EVERYONE: "Everyone, signed in or not",
    Access.USERS: "Signed-in users",
    Access.STAFF: "Staff and admins",
    Access.ADMIN: "Admins only",
}


class ForumCategory(db.Model):
    __tablename__ = "forum_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    read_access: Mapped[Access] = mapped_column(str_enum(Access), default=Access.EVERYONE)
    post_access: Mapped[Access] = mapped_column(str_enum(Access), default=Access.USERS)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    threads: Mapped[list[Thread]] = relationship(back_populates="category")

    def __repr__(self) -> str:
        return f"<ForumCategory {self.slug}>"


class Thread(db.Model):
    __tablename__ = "forum_threads"
    __table_args__ = (Index("ix_forum_threads_category_activity", "category_id", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("forum_categories.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(120), default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reply_count: Mapped[int] = mapped_column(default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)
    announcement: Mapped[bool] = mapped_column(default=False)
    # True while the opening post is hidden or deleted: the thread is then gone for non-staff.
    removed: Mapped[bool] = mapped_column(default=False)
    accepted_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", use_alter=True, ondelete="SET NULL")
    )
    # The knowledge-base article drafted from this thread (an articles row; no FK so forums stay optional).
    article_id: Mapped[int | None]

    category: Mapped[ForumCategory] = relationship(back_populates="threads")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    posts: Mapped[list[Post]] = relationship(
        back_populates="thread", foreign_keys="Post.thread_id", order_by="Post.id"
    )
    accepted_post: Mapped[Post | None] = relationship(foreign_keys=[accepted_post_id], post_update=True)

    @property
    def solved(self) -> bool:
        return self.accepted_post_id is not None

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.title!r}>"


class Post(db.Model):
    __tablename__ = "forum_posts"
    __table_args__ = (Index("ix_forum_posts_thread_created", "thread_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_first: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    render_version: Mapped[int] = mapped_column(default=0, server_default="0")  # kb.markup.RENDER_VERSION used
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    like_count: Mapped[int] = mapped_column(default=0)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    thread: Mapped[Thread] = relationship(back_populates="posts", foreign_keys=[thread_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def visible(self) -> bool:
        return self.hidden_at is None and self.deleted_at is None

    def __repr__(self) -> str:
        return f"<Post {self.id} in thread {self.thread_id}>"


class PostRevision(db.Model):
    """The text a post had before an edit; staff read the history."""

    __tablename__ = "forum_post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    editor: Mapped[User] = relationship()


class PostLike(db.Model):
    __tablename__ = "forum_post_likes"
    __table_args__ = (UniqueConstraint("post_id", "user_id", name="uq_forum_post_likes_post_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


FLAG_REASONS = {
    "spam": "Spam or advertising",
    "abuse": "Rude or abusive",
    "off-topic": "Off topic or in the wrong category",
    "secret": "Contains a password, key or other private data",
    "other": "Something else",
}


class Flag(db.Model):
    __tablename__ = "forum_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(String(20), default="")

    post: Mapped[Post] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])

    @property
    def reason_label(self) -> str:
        return FLAG_REASONS.get(self.reason, self.reason)


class Subscription(db.Model):
    """A user watching one thread or one category."""

    __tablename__ = "forum_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "thread_id", name="uq_forum_subscriptions_user_thread"),
        UniqueConstraint("user_id", "category_id", name="uq_forum_subscriptions_user_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_categories.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    thread: Mapped[Thread | None] = relationship()
    category: Mapped[ForumCategory | None] = relationship()


class Notification(db.Model):
    __tablename__ = "forum_notifications"
    __table_args__ = (Index("ix_forum_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # "reply", "thread", "accepted"
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    thread: Mapped[Thread] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class WatcherMailing(db.Model):
    """The watchers' emails about one new post, queued in the post's own transaction as one row and
    written out per watcher (with their own unsubscribe link) by the worker just before it sends:
    a reply to a thread with hundreds of watchers costs its request about what a reply with none does."""

    __tablename__ = "forum_watcher_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "reply" or "thread"
    subscription_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Links as the request that queued it built them (its host, or SITE_URL): the worker has no request.
    post_url: Mapped[str] = mapped_column(String(1000))
    unsubscribe_url: Mapped[str] = mapped_column(String(1000))  # with notifications.TOKEN_PLACE for the token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(db.Model):
    """What a signed-out visitor typed, kept server-side while they sign in (the cookie is too small)."""

    __tablename__ = "forum_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SecretPattern(db.Model):
    """A staff-added pattern for the secret scanner, on top of the built-in ones."""

    __tablename__ = "forum_secret_patterns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    pattern: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
