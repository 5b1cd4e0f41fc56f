"""Watching threads and categories, in-site notifications, and the emails watchers receive."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import contains_eager

from kb import page_cache
from kb.accounts.models import User
from kb.extensions import db
from kb.forums import permissions, urls
from kb.forums.models import ForumCategory, Notification, Post, Subscription, Thread, WatcherMailing
from kb.mail import Letter, send_template_each
from kb.paging import ListPage
from kb.types import utcnow


def subscription_for(user, thread: Thread | None = None, category: ForumCategory | None = None) -> Subscription | None:
    if not getattr(user, "is_authenticated", False):
        return None
    query = select(Subscription).where(Subscription.user_id == user.id)
    if thread is not None:
        query = query.where(Subscription.thread_id == thread.id)
    else:
        query = query.where(Subscription.category_id == category.id)
    return db.session.scalar(query)


def set_watching(user, watch: bool, thread: Thread | None = None, category: ForumCategory | None = None) -> None:
    existing = subscription_for(user, thread=thread, category=category)
    if watch and existing is None:
        db.session.add(Subscription(user_id=user.id, thread=thread, category=category))
    elif not watch and existing is not None:
        db.session.delete(existing)


@dataclass(frozen=True)
class Recipient:
    user: User
    subscription: Subscription


def notify(post: Post, kind: str, actor) -> list[Recipient]:
    """Record an in-site notification for each watcher who may read the thread; return whom to email.

    The actor is never notified of their own post; a user watching both the thread and its category
    hears about it once.
    """
    thread = post.thread
    watching = _readers_watching(
        thread, or_(Subscription.thread_id == thread.id, Subscription.category_id == thread.category_id),
        Subscription.user_id != actor.id,
    )
    recipients: dict[int, Recipient] = {}
    for recipient in watching:
        recipients.setdefault(recipient.user.id, recipient)
    if recipients:  # one INSERT, so a thread with many watchers costs little more than one with none
        db.session.execute(insert(Notification), [
            {"user_id": user_id, "thread_id": thread.id, "post_id": post.id, "kind": kind, "actor_id": actor.id}
            for user_id in recipients
        ])
        page_cache.viewers_changed(recipients)
    return list(recipients.values())



def notify_accepted(post: Post, actor) -> None:
    """Tell a reply's author that someone else accepted it as the answer."""
    if post.author_id != actor.id:
        db.session.add(Notification(user_id=post.author_id, thread=post.thread, post_id=post.id, kind="accepted",
                                    actor_id=actor.id))


TOKEN_PLACE = "TOKEN"  # in WatcherMailing.unsubscribe_url, where each watcher's token goes


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kb-forum-unsubscribe")


def unsubscribe_token(subscription: Subscription) -> str:
    return _serializer().dumps(
        {"u": subscription.user_id, "t": subscription.thread_id, "c": subscription.category_id}
    )


def subscription_from_token(token: str) -> tuple[dict | None, str | None]:
    """The token's payload, or None and the reason it is not usable."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["FORUMS_UNSUBSCRIBE_MAX_AGE"])
    except SignatureExpired:
        return None, "This unsubscribe link has expired. Sign in and use the Stop watching button instead."
    except BadSignature:
        return None, "This unsubscribe link is not valid. Sign in and use the Stop watching button instead."
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None, "This unsubscribe link is not valid."
    return data, None


def unsubscribe(data: dict) -> bool:
    """Remove the subscription the token names; False when it was already gone."""
    query = select(Subscription).where(Subscription.user_id == data["u"])
    if data.get("t"):
        query = query.where(Subscription.thread_id == data["t"])
    elif data.get("c"):
        query = query.where(Subscription.category_id == data["c"])
    else:
        return False
    subscription = db.session.scalar(query)
    if subscription is None:
        return False
    db.session.delete(subscription)
    return True


def queue_emails(post: Post, kind: str, recipients: list[Recipient]) -> None:
    """The watchers' emails about a new post as one row, in the caller's transaction: the worker
    writes them out per watcher just before it sends (write_out_mailings)."""
    db.session.add(WatcherMailing(
        post_id=post.id, kind=kind, subscription_ids=[r.subscription.id for r in recipients],
        post_url=urls.post_url(post, external=True),
        unsubscribe_url=url_for("forums.unsubscribe", token=TOKEN_PLACE, _external=True),
    ))


def write_out_mailings() -> int:
    """Turn each queued mailing into one outbox row per watcher who still watches and may still read
    the thread, and drop it, in one transaction per mailing (a post hidden meanwhile is not mailed
    about). A mailing that fails stays for the next round and holds up none behind it."""
    written, after = 0, 0
    while True:
        mailing = db.session.scalar(select(WatcherMailing).where(WatcherMailing.id > after)
                                    .order_by(WatcherMailing.id).limit(1).with_for_update(skip_locked=True))
        if mailing is None:
            return written
        after = mailing.id
        try:
            post = db.session.get(Post, mailing.post_id)
            if post is not None and post.visible:
                recipients = _still_watching(post.thread, mailing.subscription_ids)
                written += send_emails(post, mailing.kind, recipients, mailing.post_url, mailing.unsubscribe_url)
            db.session.delete(mailing)
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("forum mailing %s could not be written out; it is tried again", after)


def oldest_mailing():
    """When the oldest mailing still waiting to be written out was queued (None when none waits)."""
    return db.session.scalar(select(func.min(WatcherMailing.created_at)))


MAILING_CHUNK = 500  # subscriptions read per statement (SQLite takes at most 32,766 values in one)


def _still_watching(thread: Thread, subscription_ids: list[int]) -> list[Recipient]:
    return [recipient for start in range(0, len(subscription_ids), MAILING_CHUNK)
            for recipient in _readers_watching(thread, Subscription.id.in_(subscription_ids[start:start + MAILING_CHUNK]))]


def _readers_watching(thread: Thread, *conditions) -> list[Recipient]:
    """The subscriptions meeting these conditions whose user is enabled and may read the thread,
    thread watchers before category watchers."""
    subscriptions = db.session.scalars(
        select(Subscription)
        .join(Subscription.user)
        .options(contains_eager(Subscription.user))
        .where(*conditions, User.disabled.is_(False))
        .order_by(Subscription.thread_id.is_(None), Subscription.id)
    )
    return [Recipient(s.user, s) for s in subscriptions if permissions.can_see_thread(s.user, thread)]


def send_emails(post: Post, kind: str, recipients: list[Recipient], post_url: str, unsubscribe_at: str) -> int:
    """Queue one email per watcher, each with its own unsubscribe link, in the caller's transaction."""
    thread = post.thread
    site = current_app.config["SITE_NAME"]
    subject = (f"New reply: {thread.title}" if kind == "reply" else f"New thread in {thread.category.name}: {thread.title}")
    about = {"kind": kind, "author_name": post.author.display_name, "author_is_staff": bool(post.author.is_staff),
             "thread_title": thread.title, "category_name": thread.category.name, "post_body": post.body,
             "post_html": post.body_html, "action_url": post_url, "action_label": "Read it and answer",
             "stop_text": "Stop these emails"}
    letters = []
    for recipient in recipients:
        # A token is URL-safe as it stands, so it takes the placeholder's place: the link's last one,
        # since the site's own address may hold the same letters.
        before, _, after = unsubscribe_at.rpartition(TOKEN_PLACE)
        unsubscribe_url = before + unsubscribe_token(recipient.subscription) + after
        watched = (
            f"the thread “{thread.title}”" if recipient.subscription.thread_id else f"the {thread.category.name} forum"
        )
        letters.append(Letter(
            [recipient.user.email], f"[{site}] {subject}",
            {**about, "recipient_name": recipient.user.display_name, "stop_url": unsubscribe_url,
             "reason": f"You get this email because you watch {watched}."},
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        ))
    return send_template_each("forum_notification", letters)


def _readable_notifications(user):
    query = (
        select(Notification)
        .join(Notification.thread)
        .join(Thread.category)
        .where(Notification.user_id == user.id, ForumCategory.read_access.in_(permissions.readable_levels(user)))
    )
    if not permissions.is_staff(user):
        query = query.where(Thread.removed.is_(False))
    return query


def unread_count(user) -> int:
    query = _readable_notifications(user).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def notifications_query(user):
    from sqlalchemy.orm import joinedload

    return (
        _readable_notifications(user)
        .options(joinedload(Notification.thread).joinedload(Thread.category), joinedload(Notification.actor))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(user, notification_ids: list[int] | None = None) -> None:
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    db.session.execute(query.values(read_at=utcnow()))
    page_cache.viewers_changed([user.id])


def merged_page(user, sources: dict, page: int, per_page: int) -> ListPage:
    """Forum notifications and other features' items in one newest-first list, one page of it."""
    total = db.session.scalar(select(func.count()).select_from(_readable_notifications(user).subquery())) or 0
    total += sum(source.count(user) for source in sources.values())
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    wanted = page * per_page  # the newest `wanted` of each source hold the newest `wanted` overall
    items = list(db.session.scalars(notifications_query(user).limit(wanted)))
    for source in sources.values():
        items += source.newest(user, wanted)
    items.sort(key=lambda item: item.created_at, reverse=True)
    return ListPage(items[(page - 1) * per_page : page * per_page], page, per_page, total=total)
