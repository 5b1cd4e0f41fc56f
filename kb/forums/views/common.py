"""What every forum view shares: loading objects the viewer may see, sign-in detours, drafts and limits."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kb.errors import error_response
from kb.extensions import db, limiter
from kb.forums import (
    deflection,
    drafts,
    moderation,
    notifications,
    permissions,
)
from kb.forums.models import ForumCategory, Post, Thread

FORM_EXPIRED = "The form expired. Go back, reload the page and try again."


# --- Loading what the viewer may see (404 otherwise) -------------------------------------------

def category_or_404(slug: str) -> ForumCategory:
    category = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == slug))
    if category is None or not permissions.can_read(current_user, category):
        abort(404)
    return category


def thread_or_404(thread_id: int) -> Thread:
    thread = db.session.scalar(
        select(Thread).where(Thread.id == thread_id).options(joinedload(Thread.category), joinedload(Thread.author))
    )
    if thread is None or not permissions.can_see_thread(current_user, thread):
        abort(404)
    return thread


def post_or_404(post_id: int) -> Post:
    post = db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.thread).joinedload(Thread.category), joinedload(Post.author))
    )
    if post is None or not permissions.can_see_thread(current_user, post.thread):
        abort(404)
    if not permissions.can_see_post(current_user, post):
        abort(404)
    return post


# --- Signed-out visitors and their drafts ------------------------------------------------------

def login_redirect(next_path: str):
    return redirect(url_for("accounts.login", next=next_path))


def signed_out(form_path: str, fields: tuple[str, ...]):
    """For a signed-out visitor: keep what a POST carried and send them to sign in; None when signed in."""
    if current_user.is_authenticated:
        return None
    if request.method == "POST":
        session["forum_draft"] = drafts.keep(form_path, request.form, fields, replaces=session.get("forum_draft"))
        db.session.commit()
        flash("Please sign in to post. What you wrote is kept and will be waiting for you.", "info")
    return login_redirect(form_path)


def restore_draft(path: str) -> dict | None:
    """What the visitor typed on this page before signing in, used once."""
    data = drafts.take(session.get("forum_draft"), path)
    if data is not None:
        db.session.commit()
        session.pop("forum_draft", None)
    return data


# --- Forms -------------------------------------------------------------------------------------

def empty_form_ok() -> bool:
    """A one-button form (CSRF token only) arrived intact."""
    from kb.accounts.forms import EmptyForm

    return EmptyForm().validate_on_submit()


def form_expired():
    """A 400 for a one-button form whose token is missing or stale; None when it is fine."""
    return None if empty_form_ok() else error_response(400, FORM_EXPIRED)


def findings_block(form, *texts: str):
    """Secret-scanner findings that should stop this submission (none once the user confirmed)."""
    findings = moderation.scan_for_secrets(*texts)
    if findings and form.confirm_no_secrets.data:
        return []
    return findings


def case_draft_redirect(title: str, body: str):
    """Hand the question to the cases feature as a private draft."""
    config = current_app.config
    session["case_draft"] = deflection.case_draft(title, body, config["FORUMS_TITLE_MAX_LENGTH"],
                                                  config["FORUMS_CASE_DRAFT_MAX_LENGTH"])
    return redirect(url_for("cases.new", **{"from": "draft"}))


def publish(post: Post, kind: str) -> None:
    """Commit a new thread or reply with the watchers' emails queued in the same transaction."""
    db.session.flush()
    recipients = notifications.notify(post, kind, current_user)
    if recipients:
        notifications.queue_emails(post, kind, recipients)
    db.session.commit()


# --- Access and limits -------------------------------------------------------------------------

def is_new_account() -> bool:
    return permissions.is_new_account(current_user)


def user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


def _counts(response) -> bool:
    """Accepted and refused posts alike use up the allowance (refusing one costs work too); only a
    page shown again without posting (checking for answers, 200) is free."""
    return response.status_code != 200


new_account_limit = limiter.shared_limit(
    lambda: current_app.config["FORUMS_NEW_ACCOUNT_POST_RATE_LIMIT"],
    scope="forum-posts-new-accounts",
    key_func=user_key,
    methods=["POST"],
    exempt_when=lambda: not is_new_account(),
    deduct_when=_counts,
)
draft_limit = limiter.shared_limit(
    lambda: current_app.config["FORUMS_DRAFT_RATE_LIMIT"],
    scope="forum-drafts",
    key_func=lambda: f"ip:{request.remote_addr}",
    methods=["POST"],
    exempt_when=lambda: current_user.is_authenticated,
)
post_limit = limiter.shared_limit(
    lambda: current_app.config["FORUMS_POST_RATE_LIMIT"],
    scope="forum-posts",
    key_func=user_key,
    methods=["POST"],
    deduct_when=_counts,
)
