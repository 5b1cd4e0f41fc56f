"""Reading: the forum index, a category's threads, a thread page, stable post links and Atom feeds."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from kb.extensions import db
from kb.forums import notifications, permissions, rendering, threads
from kb.forums.capture import article_for
from kb.forums.forms import MoveForm, ReplyForm
from kb.forums.models import Post, Thread
from kb.forums.urls import post_url
from kb.forums.views import bp
from kb.forums.views.common import (
    category_or_404,
    post_or_404,
    restore_draft,
    thread_or_404,
)
from kb.security import int_arg


@bp.route("/forums/")
def index():
    """The front page: Latest and Unanswered across every category the visitor may read, announcements, categories."""
    config = current_app.config
    categories = threads.readable_categories(current_user)
    stats = threads.category_stats([c.id for c in categories], current_user)
    return render_template(
        "forums/index.html",
        categories=categories,
        stats=stats,
        announcements=threads.announcements(current_user, 5),
        latest=threads.latest(current_user, config["FORUMS_LATEST_THREADS"]),
        unanswered=threads.unanswered(current_user, config["FORUMS_UNANSWERED_THREADS"]),
        can_ask=bool(threads.askable_categories(current_user)),
    )


@bp.route("/forums/<slug>/")
def category(slug: str):
    """One category's threads, latest activity first, with filters."""
    category = category_or_404(slug)
    filter_name = request.args.get("filter")
    if filter_name not in threads.FILTERS:
        filter_name = None
    query = threads.visible_threads(current_user).where(Thread.category_id == category.id)
    query = threads.by_activity(threads.filtered(query, filter_name, current_user))
    page = db.paginate(query, page=int_arg("page"), per_page=current_app.config["FORUMS_THREADS_PER_PAGE"], error_out=False, count=True)
    watching = notifications.subscription_for(current_user, category=category) is not None
    return render_template(
        "forums/category.html",
        category=category,
        page=page,
        filter_name=filter_name,
        watching=watching,
        can_post=permissions.can_post(current_user, category),
        invites=permissions.invites_questions(current_user, category),
    )


@bp.route("/threads/<int:thread_id>", defaults={"slug": None})
@bp.route("/threads/<int:thread_id>-<slug>")
def thread(thread_id: int, slug: str | None):
    """The question, its accepted answer, and one page of replies."""
    thread = thread_or_404(thread_id)
    question = threads.first_post(thread)
    replies = db.paginate(
        threads.replies_query(thread), page=int_arg("page"), per_page=current_app.config["FORUMS_POSTS_PER_PAGE"], error_out=False
    )
    accepted = None
    if thread.accepted_post_id:
        accepted = db.session.get(Post, thread.accepted_post_id, options=[joinedload(Post.author)])
    shown = [p.id for p in replies.items] + ([question.id] if question else [])
    liked = threads.liked_post_ids(current_user, shown + ([accepted.id] if accepted else []))
    staff = permissions.is_staff(current_user)
    move_form = MoveForm()
    move_form.category_id.choices = [SelectChoice(c.id, c.name) for c in threads.readable_categories(current_user)] if staff else []
    move_form.category_id.data = thread.category_id
    can_accept = permissions.can_accept(current_user, thread)
    draft = restore_draft(url_for("forums.reply", thread_id=thread.id)) if current_user.is_authenticated else None
    return render_template(
        "forums/thread.html",
        thread=thread,
        question=question,
        replies=replies,
        accepted=accepted,
        liked=liked,
        watching=notifications.subscription_for(current_user, thread=thread) is not None,
        article=article_for(thread),
        staff=staff,
        move_form=move_form,
        reply_form=ReplyForm(formdata=None, body=(draft or {}).get("body", "")),
        can_reply=permissions.can_reply(current_user, thread),
        can_accept=can_accept,
        viewer=rendering.page_viewer(thread, staff, can_accept),
        invites=permissions.invites_questions(current_user, thread.category),
    )


@bp.get("/posts/<int:post_id>")
def post_link(post_id: int):
    """A stable link to one post: redirects to the page of its thread that shows it."""
    return redirect(post_url(post_or_404(post_id)))


@bp.get("/feeds/forums/<slug>.atom")
def feed(slug: str):
    """The newest threads of a category the requester may read, as Atom."""
    category = category_or_404(slug)
    items, first_posts = threads.feed_threads(category, current_app.config["FORUMS_FEED_ITEMS"])
    updated = max((t.last_activity_at for t in items), default=category.created_at)
    xml = render_template("forums/feed.xml", category=category, items=items, first_posts=first_posts, updated=updated)
    return Response(xml, mimetype="application/atom+xml")
