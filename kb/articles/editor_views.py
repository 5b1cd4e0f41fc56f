"""Knowledge-base pages for staff: the editor and its preview, publishing, review, history and the
review queue."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from kb.accounts.permissions import staff_required
from kb.articles import editing, queries
from kb.articles.forms import ActionForm, ArticleForm, review_form
from kb.articles.models import Article, ArticleStatus, Category, Revision, article_url
from kb.articles.permissions import can_edit
from kb.articles.views import _limit, bp
from kb.extensions import db
from kb.images import service as images
from kb.images.endpoint import json_upload
from kb.markup import render_article
from kb.security import int_arg


def _editable_article(slug: str) -> Article:
    article = queries.article_by_slug(slug)
    if article is None:
        abort(404)
    if not can_edit(current_user, article):
        abort(403)
    return article


def _category_choices() -> list[SelectChoice]:
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.name))
    return [SelectChoice(0, "No category")] + [SelectChoice(c.id, c.name) for c in categories]


def _editor(form: ArticleForm, article: Article | None, status: int = 200, preview=None):
    return render_template("articles/edit.html", form=form, article=article, preview=preview), status


def _form_values(form: ArticleForm) -> dict:
    category = db.session.get(Category, form.category.data) if form.category.data else None
    return {
        "title": form.title.data.strip(), "body": form.body.data, "summary": (form.summary.data or "").strip(),
        "type": form.type.data, "category": category, "tags": editing.normalize_tags(form.tags.data or ""),
        "versions": editing.normalize_versions(form.versions.data or ""),
    }


def _previewable(form: ArticleForm) -> bool:
    """A preview needs no title yet, but a body over the limit goes through validation (and its message)."""
    return len(form.body.data or "") <= current_app.config["ARTICLE_BODY_MAX_LENGTH"]


def _take_image(form: ArticleForm) -> int | None:
    """An image chosen without the editor's script: stored, and its Markdown added to the body.

    It is committed at once, so its link in the text shown again works even if the article is
    refused below; a refused image gives its status with the reason on the field.
    """
    refused = images.add_form_image(form, current_user)
    if refused is None:
        db.session.commit()
    return refused


def _editor_instead(form: ArticleForm, article: Article | None, action: str):
    """The editor again instead of a save: an image refused, a preview asked for, or the form's errors."""
    refused = _take_image(form)
    if refused:
        return _editor(form, article, refused)
    if action == "preview" and _previewable(form):
        return _editor(form, article, preview=render_article(form.body.data or ""))
    if not form.validate_on_submit():
        return _editor(form, article, 400)
    return None


@bp.route("/articles/images", methods=["POST"])
@staff_required
def upload_image():
    """The editor's script: store one image and answer with its address and Markdown (JSON)."""
    return json_upload(current_user)


@bp.route("/articles/new", methods=["GET", "POST"])
@staff_required
def new():
    """Write a new article; ``?title=`` fills in the title (e.g. from search analytics)."""
    form = ArticleForm()
    form.category.choices = _category_choices()
    if request.method == "GET":
        form.title.data = request.args.get("title", "")[: current_app.config["ARTICLE_TITLE_MAX_LENGTH"]]
        form.versions.data = current_app.config["CURRENT_PRODUCT_VERSION"]
        return _editor(form, None)
    action = request.form.get("action", "save")
    unsaved = _editor_instead(form, None, action)
    if unsaved is not None:
        return unsaved
    if form.slug.data and db.session.scalar(select(Article.id).where(Article.slug == form.slug.data)):
        form.slug.errors.append("Another article already uses this address.")
        return _editor(form, None, 400)
    values = _form_values(form)
    article = editing.create_article(
        author=current_user, slug=form.slug.data or None, message=(form.message.data or "").strip() or "Created",
        status=ArticleStatus.PUBLISHED if action == "publish" else ArticleStatus.DRAFT, **values,
    )
    db.session.commit()
    flash("Article published." if action == "publish" else "Draft saved. Only staff can see it until you publish it.",
          "success")
    return redirect(article_url(article))


@bp.route("/articles/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit(slug: str):
    """Change an article; every save of the words keeps a revision."""
    article = _editable_article(slug)
    latest = db.session.scalar(select(Revision.id).where(Revision.article_id == article.id).order_by(Revision.id.desc()))
    form = ArticleForm(obj=None)
    form.category.choices = _category_choices()
    if request.method == "GET":
        form.title.data = article.title
        form.summary.data = article.summary
        form.type.data = article.type.value
        form.category.data = article.category_id or 0
        form.tags.data = ", ".join(article.tags)
        form.versions.data = ", ".join(article.versions or [])
        form.body.data = article.body
        form.base_revision.data = str(latest or "")
        return _editor(form, article)
    action = request.form.get("action", "save")
    unsaved = _editor_instead(form, article, action)
    if unsaved is not None:
        return unsaved
    if form.base_revision.data and form.base_revision.data != str(latest or ""):
        form.body.errors.append(
            "Someone else saved this article while you were editing. Your text is below; open the history in "
            "another tab to compare, then save again."
        )
        form.base_revision.data = str(latest or "")
        return _editor(form, article, 409)
    editing.apply_changes(article, editor=current_user, message=(form.message.data or "").strip(), **_form_values(form))
    if action == "publish":
        editing.publish(article)
    db.session.commit()
    flash("Article published." if action == "publish" else "Changes saved.", "success")
    return redirect(article_url(article))


@bp.route("/articles/preview", methods=["POST"])
@staff_required
@_limit("ARTICLE_PREVIEW_RATE_LIMIT")
def preview():
    """The editor's live preview: the body rendered exactly as it will be saved, as an HTML fragment."""
    body = request.form.get("body", "")
    if len(body) > current_app.config["ARTICLE_BODY_MAX_LENGTH"]:
        abort(413)
    rendered = render_article(body)
    html = render_template("articles/_preview.html", preview=rendered)
    return Response(html, mimetype="text/html")


@bp.route("/articles/<slug>/publish", methods=["POST"])
@staff_required
def publish(slug: str):
    """Make a draft or archived article visible to everyone."""
    return _status_change(slug, editing.publish, "Article published.")


@bp.route("/articles/<slug>/archive", methods=["POST"])
@staff_required
def archive(slug: str):
    """Take an article out of lists, search, feeds and the sitemap, keeping it for staff."""
    return _status_change(slug, editing.archive, "Article archived. Customers can no longer see it.")


@bp.route("/articles/<slug>/unpublish", methods=["POST"])
@staff_required
def unpublish(slug: str):
    """Turn an article back into a draft."""
    return _status_change(slug, editing.unpublish, "Article moved back to drafts.")


def _status_change(slug: str, change, message: str):
    article = _editable_article(slug)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    change(article)
    db.session.commit()
    flash(message, "success")
    return redirect(article_url(article))


@bp.route("/articles/<slug>/review", methods=["POST"])
@staff_required
def review(slug: str):
    """Record that a member of staff checked the article, and for which product version."""
    article = _editable_article(slug)
    form = review_form()
    if not form.validate_on_submit():
        abort(400, "Choose a product version from the list.")
    editing.mark_reviewed(article, current_user, form.verified_version.data)
    db.session.commit()
    flash(f"Marked as reviewed and verified for version {form.verified_version.data}.", "success")
    target = request.form.get("next")
    if target == "queue":
        return redirect(url_for("articles.review_queue"))
    return redirect(article_url(article))


@bp.route("/articles/<slug>/history")
@staff_required
def history(slug: str):
    """Every revision, and a line-by-line diff between any two of them."""
    article = _editable_article(slug)
    revisions = queries.revisions_of(article)
    numbers = {revision.id: number for number, revision in enumerate(revisions, start=1)}
    by_id = {revision.id: revision for revision in revisions}
    new_id = int_arg("to", None) or (revisions[-1].id if revisions else None)
    old_id = int_arg("from", None) or (revisions[-2].id if len(revisions) > 1 else new_id)
    if (new_id and new_id not in by_id) or (old_id and old_id not in by_id):
        abort(404)
    diff = None
    if old_id and new_id:
        old, new = by_id[old_id], by_id[new_id]
        diff = editing.revision_diff(old, new, f"Revision {numbers[old_id]}", f"Revision {numbers[new_id]}")
    return render_template("articles/history.html", article=article, revisions=revisions, numbers=numbers,
                           old_id=old_id, new_id=new_id, diff=diff, action_form=ActionForm())


@bp.route("/articles/<slug>/revisions/<int:revision_id>/restore", methods=["POST"])
@staff_required
def restore(slug: str, revision_id: int):
    """Bring back an older revision's words as a new revision."""
    article = _editable_article(slug)
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.article_id != article.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    editing.restore_revision(article, revision, current_user)
    db.session.commit()
    flash("The older revision is back and saved as the newest revision.", "success")
    return redirect(url_for("articles.history", slug=article.slug))


@bp.route("/staff/articles/review")
@staff_required
def review_queue():
    """Articles that need a staff review: old, unhelpful, or not verified for the current version."""
    config = current_app.config
    items = queries.review_queue(
        max_age_days=config["ARTICLE_REVIEW_MAX_AGE_DAYS"], ratio_threshold=config["ARTICLE_HELPFUL_RATIO_THRESHOLD"],
        min_votes=config["ARTICLE_HELPFUL_MIN_VOTES"], window_days=config["ARTICLE_HELPFUL_WINDOW_DAYS"],
        current_version=config["CURRENT_PRODUCT_VERSION"],
    )
    return render_template("articles/review_queue.html", items=items, action_form=ActionForm(),
                           current_version=config["CURRENT_PRODUCT_VERSION"])
