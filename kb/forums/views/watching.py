"""Watching threads and categories, the unsubscribe link in emails, and the notifications page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from kb.errors import error_response
from kb.extensions import csrf, db
from kb.forums import notifications
from kb.forums.models import ForumCategory, Thread
from kb.forums.urls import thread_url
from kb.forums.views import bp
from kb.hooks import notification_sources
from kb.forums.views.common import (
    category_or_404,
    empty_form_ok,
    form_expired,
    login_redirect,
    thread_or_404,
)
from kb.security import int_arg


def _switch_watching(back_url: str, messages: dict[bool, str], **target):
    """The watch buttons: sign in first, then turn emails for the thread or category on or off."""
    if not current_user.is_authenticated:
        return login_redirect(back_url)
    refused = form_expired()
    if refused:
        return refused
    on = request.form.get("watch") == "1"
    notifications.set_watching(current_user, on, **target)
    db.session.commit()
    flash(messages[on], "success")
    return redirect(back_url)


@bp.post("/threads/<int:thread_id>/watch")
def watch(thread_id: int):
    """Start or stop getting emails about replies to a thread."""
    thread = thread_or_404(thread_id)
    messages = {True: "You are watching this thread: replies will be emailed to you.",
                False: "You stopped watching this thread."}
    return _switch_watching(thread_url(thread), messages, thread=thread)


@bp.post("/forums/<slug>/watch")
def watch_category(slug: str):
    """Start or stop getting emails about new threads and replies in a category."""
    category = category_or_404(slug)
    messages = {True: f"You are watching {category.name}.", False: f"You stopped watching {category.name}."}
    return _switch_watching(url_for("forums.category", slug=category.slug), messages, category=category)


@bp.route("/forums/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """The link in every notification email; the signed token is the authorisation (one-click POST too)."""
    data, problem = notifications.subscription_from_token(token)
    if data is None:
        return error_response(400, problem)
    if request.method == "POST":
        removed = notifications.unsubscribe(data)
        db.session.commit()
        return render_template("forums/unsubscribed.html", removed=removed)
    thread = db.session.get(Thread, data["t"]) if data.get("t") else None
    category = db.session.get(ForumCategory, data["c"]) if data.get("c") else None
    return render_template("forums/unsubscribe.html", token=token, thread=thread, category=category)


@bp.get("/notifications")
@login_required
def notifications_page():
    """Replies and new threads in what you watch, and other features' activity (cases); opening the page marks them read."""
    per_page = current_app.config["FORUMS_NOTIFICATIONS_PER_PAGE"]
    page_number = int_arg("page", high=10_000)
    page = notifications.merged_page(current_user, notification_sources(current_app), page_number, per_page)
    unread_ids = [n.id for n in page.items if getattr(n, "key", None) is None and n.read_at is None]
    unread_keys = [n.key for n in page.items if getattr(n, "key", None) is not None and n.unread]
    response = render_template("forums/notifications.html", page=page, unread_ids=set(unread_ids))
    if unread_ids:
        notifications.mark_read(current_user, unread_ids)
    for source in notification_sources(current_app).values():
        if unread_keys:
            source.mark_read(current_user, unread_keys)
    if unread_ids or unread_keys:
        db.session.commit()
    return response


@bp.post("/notifications/read")
@login_required
def notifications_read():
    """Mark every notification read."""
    if empty_form_ok():
        notifications.mark_read(current_user)
        for source in notification_sources(current_app).values():
            source.mark_read(current_user, None)
        db.session.commit()
    return redirect(url_for("forums.notifications_page"))
