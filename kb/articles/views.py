"""Knowledge-base pages: lists, the article page, the editor, history, feedback, review queue, feed."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from kb.accounts.permissions import staff_required
from kb.articles import editing, queries
from kb.articles.forms import ActionForm, ArticleForm, FeedbackForm, ReviewForm
from kb.articles.models import (
    Article,
    ArticleStatus,
    ArticleType,
    Category,
    Feedback,
    Revision,
    article_url,
)
from kb.articles.permissions import can_edit, can_read, can_see_feedback
from kb.extensions import db, limiter
from kb.images import service as images
from kb.images.endpoint import json_upload
from kb.markup import render_article
from kb.security import int_arg

bp = Blueprint("articles", __name__)

VOTER_SESSION_KEY = "kb_voter"


def _limit(key: str):
    return limiter.limit(lambda: current_app.config[key], methods=["POST"])


def _readable_article(slug: str) -> Article:
    """The article if this viewer may read it; 404 otherwise, so drafts do not reveal they exist."""
    article = queries.article_by_slug(slug)
    if article is None or not can_read(current_user, article):
        abort(404)
    return article


def _editable_article(slug: str) -> Article:
    article = queries.article_by_slug(slug)
    if article is None:
        abort(404)
    if not can_edit(current_user, article):
        abort(403)
    return article


@bp.route("/articles/")
def index():
    """All published articles (staff: any status), filtered by type, category and tag."""
    staff = can_edit(current_user)
    type_ = request.args.get("type", "").strip()
    if type_ and type_ not in {t.value for t in ArticleType}:
        abort(400, f"There is no article type called “{type_[:40]}”. Choose one from the list.")
    status = request.args.get("status", "").strip() if staff else ""
    if status and status not in {s.value for s in ArticleStatus}:
        abort(400, f"There is no status called “{status[:40]}”.")
    category = None
    category_slug = request.args.get("category", "").strip()
    if category_slug:
        category = db.session.scalar(select(Category).where(Category.slug == category_slug))
        if category is None:
            abort(404)
    tag = request.args.get("tag", "").strip().lower()[:60]
    query = queries.list_query(include_unpublished=staff, type=type_ or None, category=category, tag=tag or None,
                               status=status or None)
    page = db.paginate(query, page=int_arg("page"), per_page=current_app.config["PER_PAGE"],
                       error_out=False)
    return render_template(
        "articles/index.html", page=page, types=list(ArticleType), statuses=list(ArticleStatus),
        categories=queries.categories_with_counts(), tags=queries.all_tags(), selected_type=type_,
        selected_category=category, selected_tag=tag, selected_status=status, staff=staff,
    )


@bp.route("/categories/<slug>")
def category(slug: str):
    """One category's published articles."""
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        abort(404)
    query = queries.list_query(category=category)
    page = db.paginate(query, page=int_arg("page"), per_page=current_app.config["PER_PAGE"],
                       error_out=False)
    return render_template("articles/category.html", category=category, page=page)


@bp.route("/sitemap")
def site_index():
    """The sitemap for people: every category and published article on one page (the XML is for crawlers)."""
    categories, uncategorised = queries.site_index()
    return render_template("articles/site_index.html", categories=categories, uncategorised=uncategorised)


@bp.route("/articles/<slug>")
def show(slug: str):
    """The article page: stored HTML, contents, related articles and the "was this helpful?" form."""
    return _render_article(_readable_article(slug), FeedbackForm())


def _render_article(article: Article, feedback_form: FeedbackForm, status: int = 200):
    related = queries.related_articles(article, current_app.config["ARTICLE_RELATED_COUNT"])
    my_vote = _my_vote(article)
    staff = can_see_feedback(current_user)
    return render_template(
        "articles/show.html", article=article, related=related, feedback_form=feedback_form, my_vote=my_vote,
        staff=staff, feedback=queries.feedback_of(article, 20) if staff else [], action_form=ActionForm(),
        review_form=_review_form(article) if staff else None, feedback_csrf=generate_csrf(),
    ), status


def _my_vote(article: Article) -> Feedback | None:
    if current_user.is_authenticated:
        return db.session.scalar(select(Feedback).where(Feedback.article_id == article.id,
                                                        Feedback.user_id == current_user.id))
    key = session.get(VOTER_SESSION_KEY)
    if not key:
        return None
    return db.session.scalar(select(Feedback).where(Feedback.article_id == article.id, Feedback.session_key == key))


@bp.route("/articles/<slug>/feedback", methods=["POST"])
@_limit("FEEDBACK_RATE_LIMIT")
def feedback(slug: str):
    """Record a yes/no vote with an optional comment: one per user, or per browser session."""
    article = _readable_article(slug)
    if not article.is_published:
        abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render_article(article, form, 400)
    key = None
    if not current_user.is_authenticated:
        key = session.get(VOTER_SESSION_KEY) or secrets.token_hex(16)
        session[VOTER_SESSION_KEY] = key
    helpful, comment = form.helpful.data == "yes", (form.comment.data or "").strip()
    try:
        editing.record_feedback(article, helpful, comment, user=current_user, session_key=key)
        db.session.commit()
    except IntegrityError:
        # The same reader voted twice at once (double click): the other request's row exists now.
        db.session.rollback()
        editing.record_feedback(article, helpful, comment, user=current_user, session_key=key)
        db.session.commit()
    # The thank-you is part of the feedback section (it shows the recorded answer), not a flash.
    return redirect(article_url(article) + "#feedback")


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
    refused = _take_image(form)
    if refused:
        return _editor(form, None, refused)
    if action == "preview" and _previewable(form):
        return _editor(form, None, preview=render_article(form.body.data or ""))
    if not form.validate_on_submit():
        return _editor(form, None, 400)
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
    refused = _take_image(form)
    if refused:
        return _editor(form, article, refused)
    if action == "preview" and _previewable(form):
        return _editor(form, article, preview=render_article(form.body.data or ""))
    if not form.validate_on_submit():
        return _editor(form, article, 400)
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
    form = _review_form(article)
    if not form.validate_on_submit():
        abort(400, "Choose a product version from the list.")
    editing.mark_reviewed(article, current_user, form.verified_version.data)
    db.session.commit()
    flash(f"Marked as reviewed and verified for version {form.verified_version.data}.", "success")
    target = request.form.get("next")
    if target == "queue":
        return redirect(url_for("articles.review_queue"))
    return redirect(article_url(article))


def _review_form(article: Article) -> ReviewForm:
    form = ReviewForm()
    versions = list(current_app.config["PRODUCT_VERSIONS"])
    form.verified_version.choices = [SelectChoice(v, v) for v in reversed(versions)]
    if not form.is_submitted():
        form.verified_version.data = current_app.config["CURRENT_PRODUCT_VERSION"]
    return form


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


@bp.route("/feeds/articles.atom")
def feed():
    """An Atom feed of recently updated published articles."""
    articles = queries.recent_articles(current_app.config["ARTICLE_FEED_COUNT"])
    xml = render_template("articles/feed.xml", articles=articles,
                          updated=max((a.updated_at for a in articles), default=None))
    return Response(xml, mimetype="application/atom+xml")
