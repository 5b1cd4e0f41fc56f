"""Knowledge-base pages for readers: lists, the article page, its feedback, the feed (the editor,
history and review: editor_views.py)."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb.articles import editing, queries
from kb.articles.forms import ActionForm, FeedbackForm, review_form
from kb.articles.models import (
    Article,
    ArticleStatus,
    ArticleType,
    Category,
    Feedback,
    article_url,
)
from kb.articles.permissions import can_edit, can_read, can_see_feedback
from kb.extensions import db, limiter
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
        review_form=review_form() if staff else None, feedback_csrf=generate_csrf(),
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


@bp.route("/feeds/articles.atom")
def feed():
    """An Atom feed of recently updated published articles."""
    articles = queries.recent_articles(current_app.config["ARTICLE_FEED_COUNT"])
    xml = render_template("articles/feed.xml", articles=articles,
                          updated=max((a.updated_at for a in articles), default=None))
    return Response(xml, mimetype="application/atom+xml")
