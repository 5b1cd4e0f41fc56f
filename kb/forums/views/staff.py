"""Staff and admin pages: the flag queue, thread moderation, knowledge capture, categories and scanner patterns."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from kb.accounts.permissions import admin_required, staff_required
from kb.errors import error_response
from kb.extensions import db
from kb.forums import moderation, threads
from kb.forums.capture import article_for, capture_thread
from kb.forums.forms import CategoryForm, MoveForm, SecretPatternForm
from kb.forums.models import ForumCategory, SecretPattern
from kb.forums.secrets import BUILTIN_RULES
from kb.forums.threads import ForumError
from kb.forums.urls import thread_url
from kb.forums.views import bp
from kb.forums.views.common import (
    empty_form_ok,
    form_expired,
    post_or_404,
    thread_or_404,
)
from kb.security import int_arg

# --- Flags and threads -------------------------------------------------------------------------

@bp.get("/moderation/")
@staff_required
def moderation_queue():
    """Open flags, oldest first, for staff."""
    page = db.paginate(moderation.open_flags_query(current_user), page=int_arg("page"), per_page=current_app.config["FORUMS_FLAGS_PER_PAGE"], error_out=False)
    return render_template("forums/moderation.html", page=page)


@bp.post("/moderation/posts/<int:post_id>/dismiss")
@staff_required
def dismiss_flags(post_id: int):
    """Staff: close a post's flags without hiding it."""
    post = post_or_404(post_id)
    if empty_form_ok():
        count = moderation.resolve_flags(post, current_user, "dismissed")
        db.session.commit()
        flash(f"{count} flag{'s' if count != 1 else ''} dismissed.", "success")
    return redirect(url_for("forums.moderation_queue"))


@bp.post("/threads/<int:thread_id>/moderate")
@staff_required
def moderate_thread(thread_id: int):
    """Staff: lock, pin or announce a thread (and undo each)."""
    thread = thread_or_404(thread_id)
    refused = form_expired()
    if refused:
        return refused
    try:
        message = moderation.apply_thread_action(thread, request.form.get("action", ""))
    except ForumError as exc:
        return error_response(exc.status, str(exc))
    db.session.commit()
    flash(message, "success")
    return redirect(thread_url(thread))


@bp.post("/threads/<int:thread_id>/move")
@staff_required
def move(thread_id: int):
    """Staff: move a thread to another category."""
    thread = thread_or_404(thread_id)
    form = MoveForm()
    form.category_id.choices = [SelectChoice(c.id, c.name) for c in threads.readable_categories(current_user)]
    if not form.validate_on_submit():
        return error_response(400, "Choose one of the listed categories.")
    target = db.session.get(ForumCategory, form.category_id.data)
    moderation.move_thread(thread, target)
    db.session.commit()
    flash(f"Moved to {target.name}.", "success")
    return redirect(thread_url(thread))


@bp.post("/threads/<int:thread_id>/capture")
@staff_required
def capture(thread_id: int):
    """Staff: start a knowledge-base article from a solved thread (question and accepted answer)."""
    thread = thread_or_404(thread_id)
    refused = form_expired()
    if refused:
        return refused
    article = article_for(thread)
    if article is not None:
        flash("This thread already has an article draft.", "info")
        return redirect(url_for("articles.edit", slug=article.slug))
    if not thread.accepted_post_id:
        return error_response(400, "Accept an answer first: the article is built from the question and its accepted answer.")
    article = capture_thread(thread, current_user, thread_url(thread, external=True))
    db.session.commit()
    flash("A draft article is ready. Edit it, then publish it: the thread will link to it.", "success")
    return redirect(url_for("articles.edit", slug=article.slug))


# --- Categories (admins) -----------------------------------------------------------------------

def _render_category_form(form: CategoryForm, category: ForumCategory | None, status: int = 200):
    return render_template("forums/category_form.html", form=form, category=category), status


@bp.get("/moderation/categories")
@admin_required
def manage_categories():
    """Admins: the categories, in order."""
    categories = db.session.scalars(select(ForumCategory).order_by(ForumCategory.position, ForumCategory.name)).all()
    return render_template("forums/manage_categories.html", categories=categories)


@bp.route("/moderation/categories/new", methods=["GET", "POST"], defaults={"category_id": None})
@bp.route("/moderation/categories/<int:category_id>", methods=["GET", "POST"])
@admin_required
def edit_category(category_id: int | None):
    """Admins: create or change a category (name, address, order, who reads, who posts)."""
    category = db.session.get(ForumCategory, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category)
    if not form.validate_on_submit():
        return _render_category_form(form, category, 400 if form.is_submitted() else 200)
    try:
        slug = moderation.category_slug(form.slug.data, category)
    except ForumError as exc:
        form.slug.errors = [str(exc)]
        return _render_category_form(form, category, 400)
    if category is None:
        category = ForumCategory()
        db.session.add(category)
    form.populate_obj(category)
    category.slug = slug
    db.session.commit()
    flash(f"Category {category.name} saved.", "success")
    return redirect(url_for("forums.manage_categories"))


# --- Secret scanner patterns (staff) -----------------------------------------------------------

@bp.route("/moderation/secret-patterns", methods=["GET", "POST"])
@staff_required
def secret_patterns():
    """Staff: the secret scanner's built-in rules and the extra patterns staff added."""
    form = SecretPatternForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            moderation.add_secret_pattern(form.name.data, form.pattern.data, current_user)
        except ForumError as exc:
            form.pattern.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Pattern added: new posts are checked against it from now on.", "success")
            return redirect(url_for("forums.secret_patterns"))
    patterns = db.session.scalars(select(SecretPattern).order_by(SecretPattern.name)).all()
    disabled = set(current_app.config.get("FORUMS_SECRET_PATTERNS_DISABLED") or [])
    return render_template("forums/secret_patterns.html", form=form, patterns=patterns, builtin=BUILTIN_RULES,
                           disabled=disabled, configured=current_app.config.get("FORUMS_SECRET_PATTERNS") or {}), status


@bp.post("/moderation/secret-patterns/<int:pattern_id>/delete")
@staff_required
def delete_secret_pattern(pattern_id: int):
    """Staff: remove a pattern they added."""
    pattern = db.session.get(SecretPattern, pattern_id) or abort(404)
    if empty_form_ok():
        db.session.delete(pattern)
        db.session.commit()
        flash("Pattern removed.", "success")
    return redirect(url_for("forums.secret_patterns"))
