"""One post at a time: its edit history, delete and restore, hide, accept, like and flag."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from kb.errors import error_response
from kb.extensions import db
from kb.forums import moderation, notifications, permissions, threads
from kb.forums.forms import FlagForm
from kb.forums.threads import ForumError
from kb.forums.urls import post_url, thread_url
from kb.forums.views import bp
from kb.forums.views.common import (
    form_expired,
    login_redirect,
    post_or_404,
)


def _one_button(post_id: int):
    """Shared start of the one-button POSTs: (the post, None), or (the post, a sign-in redirect or 400)."""
    post = post_or_404(post_id)
    if not current_user.is_authenticated:
        return post, login_redirect(thread_url(post.thread))
    return post, form_expired()


@bp.get("/posts/<int:post_id>/history")
@login_required
def post_history(post_id: int):
    """Earlier versions of an edited post, for staff."""
    if not permissions.can_moderate(current_user):
        abort(403)
    post = post_or_404(post_id)
    return render_template("forums/history.html", post=post, thread=post.thread, revisions=threads.revisions(post))


@bp.post("/posts/<int:post_id>/delete")
def delete_post(post_id: int):
    """Soft-delete a post; staff can restore it."""
    post, early = _one_button(post_id)
    if early:
        return early
    if not permissions.can_delete(current_user, post):
        return error_response(403, "You can only delete your own posts.")
    threads.delete_post(post, current_user)
    db.session.commit()
    if post.is_first and not permissions.is_staff(current_user):
        flash("Your thread is deleted.", "success")
        return redirect(url_for("forums.category", slug=post.thread.category.slug))
    flash("The post is deleted." + (" Staff can still restore it." if not post.is_first else ""), "success")
    return redirect(thread_url(post.thread))


@bp.post("/posts/<int:post_id>/restore")
def restore_post(post_id: int):
    """Staff: bring back a deleted or hidden post."""
    post, early = _one_button(post_id)
    if early:
        return early
    if not permissions.can_moderate(current_user):
        abort(403)
    threads.restore_post(post)
    db.session.commit()
    flash("The post is visible again.", "success")
    return redirect(post_url(post))


@bp.post("/posts/<int:post_id>/hide")
def hide_post(post_id: int):
    """Staff: hide a post from everyone else and close its flags."""
    post, early = _one_button(post_id)
    if early:
        return early
    if not permissions.can_moderate(current_user):
        abort(403)
    threads.hide_post(post, current_user)
    moderation.resolve_flags(post, current_user, "hidden")
    db.session.commit()
    flash("The post is hidden. Only staff can see it now.", "success")
    if request.form.get("next") == "moderation":
        return redirect(url_for("forums.moderation_queue"))
    return redirect(post_url(post))


@bp.post("/posts/<int:post_id>/accept")
def accept(post_id: int):
    """Mark (or unmark) the accepted answer: the thread's author or staff."""
    post, early = _one_button(post_id)
    if early:
        return early
    if not permissions.can_accept(current_user, post.thread):
        return error_response(403, "Only the person who asked, or the support team, can accept an answer.")
    try:
        threads.accept_post(post)
    except ForumError as exc:
        return error_response(exc.status, str(exc))
    accepted = post.thread.accepted_post_id == post.id
    if accepted:
        notifications.notify_accepted(post, current_user)
    db.session.commit()
    flash("Marked as the accepted answer. Thank you for closing the loop." if accepted else "The answer is no longer marked as accepted.", "success")
    return redirect(thread_url(post.thread) + f"#post-{post.id}")


@bp.post("/posts/<int:post_id>/like")
def like(post_id: int):
    """Like a post, or take the like back; one per person."""
    post, early = _one_button(post_id)
    if early:
        return early
    if not post.visible:
        abort(404)
    try:
        liked = threads.toggle_like(post, current_user)
    except ForumError as exc:
        return error_response(exc.status, str(exc))
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"liked": liked, "likes": post.like_count})
    return redirect(post_url(post))


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
def flag(post_id: int):
    """Ask a moderator to look at a post."""
    post = post_or_404(post_id)
    if not current_user.is_authenticated:
        return login_redirect(url_for("forums.flag", post_id=post.id))
    form = FlagForm()
    if form.validate_on_submit():
        try:
            moderation.flag_post(post, current_user, form.reason.data, (form.note.data or "").strip())
        except ForumError as exc:
            form.reason.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Thank you. A moderator will look at this post.", "success")
            return redirect(post_url(post))
    status = 400 if form.is_submitted() else 200
    return render_template("forums/flag.html", post=post, thread=post.thread, form=form), status
