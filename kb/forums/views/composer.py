"""Writing: new threads (with answers before asking), replies, edits, and the 429 page that keeps the text."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kb.errors import error_response
from kb.extensions import db, limiter
from kb.forums import deflection, permissions, threads
from kb.forums.forms import AskForm, EditForm, ReplyForm, ThreadForm
from kb.forums.models import ForumCategory, Post, Thread
from kb.forums.threads import ForumError
from kb.forums.urls import post_url, thread_url
from kb.forums.views import bp
from kb.forums.views.common import (
    case_draft_redirect,
    category_or_404,
    draft_limit,
    findings_block,
    is_new_account,
    new_account_limit,
    post_limit,
    post_or_404,
    publish,
    restore_draft,
    signed_out,
    thread_or_404,
    user_key,
)
from kb.images import service as images
from kb.images.endpoint import json_upload
from kb.security import int_arg

UNVERIFIED_MESSAGE = ("Confirm your email address before posting: open the link we emailed you, "
                      "or ask for a new one on your account page.")


def _render_new_thread(category: ForumCategory | None, form: ThreadForm, status: int = 200, **extra):
    signals = deflection.detect_outage(f"{form.title.data or ''}\n{form.body.data or ''}")
    severity = deflection.suggested_severity(signals)
    page = render_template("forums/new_thread.html", category=category, form=form, outage=signals, severity=severity, **extra)
    return page, status


def _render_reply(thread: Thread, form: ReplyForm, status: int = 200, **extra):
    return render_template("forums/reply.html", thread=thread, form=form, **extra), status


def _render_edit(post: Post, form: EditForm, status: int = 200, **extra):
    return render_template("forums/edit.html", post=post, thread=post.thread, form=form, **extra), status


def _take_image(form) -> int | None:
    """An image chosen without the composer's script: stored, and its Markdown added to the text.

    Committed at once, so the link in a form shown again (for any reason) works; a refused image
    gives its status (400, 413, 429) with the reason on the field, the text kept.
    """
    if not permissions.can_add_images(current_user):
        form.image.data = None
        return None
    refused = images.add_form_image(form, current_user, daily_limit=permissions.image_daily_limit(current_user))
    if refused is None:
        db.session.commit()
    return refused


@bp.route("/forums/images", methods=["POST"])
def upload_image():
    """The composer's script: store one image for a post and answer with its address and Markdown (JSON)."""
    if not current_user.is_authenticated:
        return error_response(401, "Sign in to add images.")
    if not permissions.address_ok_for_posting(current_user):
        return error_response(403, UNVERIFIED_MESSAGE)
    if not permissions.can_add_images(current_user):
        return error_response(403, "Images in posts are switched off on this site. Post the text, or link to the image.")
    return json_upload(current_user, daily_limit=permissions.image_daily_limit(current_user))


def _valid_tags(form) -> list[str] | None:
    """The form's tags, or None with the reason shown on the field when they break the limits."""
    try:
        return threads.parse_tags(form.tags.data)
    except ForumError as exc:
        form.tags.errors = [str(exc)]
        return None


def _answers_for(query: str) -> list[dict]:
    return deflection.find_answers(query, current_user, current_app.config["FORUMS_DEFLECTION_RESULTS"])


@bp.route("/forums/<slug>/new", methods=["GET", "POST"])
@draft_limit
@new_account_limit
@post_limit
def new_thread(slug: str):
    """Ask a question in one category: check for existing answers first, then post (or move it into a private case)."""
    category = category_or_404(slug)
    form_path = url_for("forums.new_thread", slug=category.slug)
    detour = signed_out(form_path, ("title", "body", "tags"))
    if detour:
        return detour
    if not permissions.address_ok_for_posting(current_user):
        return error_response(403, UNVERIFIED_MESSAGE)
    if not permissions.can_post(current_user, category):
        return error_response(403, f"Only the support team starts threads in {category.name}. "
                                   "You can reply to them, or ask in another category.")
    return _compose(ThreadForm(), form_path, category)


@bp.route("/forums/new", methods=["GET", "POST"])
@draft_limit
@new_account_limit
@post_limit
def ask():
    """Ask a question from any forum page: the asker picks one of the categories they may post in."""
    form_path = url_for("forums.ask")
    detour = signed_out(form_path, ("title", "body", "tags"))
    if detour:
        return detour
    if not permissions.address_ok_for_posting(current_user):
        return error_response(403, UNVERIFIED_MESSAGE)
    form = _ask_form()
    if not form.category.choices:
        return error_response(403, "There is no category you can start a thread in; you can still reply to threads.")
    if request.method == "GET":
        wanted = request.args.get("category")
        form.category.data = wanted if wanted and wanted in {choice.value for choice in form.category.choices} else ""
    return _compose(form, form_path)


def _ask_form() -> AskForm:
    form = AskForm()
    choices = [SelectChoice(c.slug, c.name) for c in threads.askable_categories(current_user)]
    form.category.choices = [SelectChoice("", "Choose a category…")] + choices if choices else []
    return form


def _compose(form: ThreadForm, form_path: str, category: ForumCategory | None = None):
    """The composer's one flow, for a fixed category or (``category`` None) the one chosen in an AskForm."""
    if request.method == "GET":
        draft = restore_draft(form_path)
        if draft:
            form.title.data, form.body.data, form.tags.data = draft.get("title"), draft.get("body"), draft.get("tags")
        elif request.args.get("title"):
            form.title.data = request.args.get("title", "")[: current_app.config["FORUMS_TITLE_MAX_LENGTH"]]
        return _render_new_thread(category, form)

    action = request.form.get("action", "post")
    title, body = (form.title.data or "").strip(), form.body.data or ""
    if action == "case":  # private: an image chosen for a public post stays out of it
        return case_draft_redirect(title, body)
    refused = _take_image(form)
    if refused:
        return _render_new_thread(category, form, refused)
    body = form.body.data or ""
    if action == "check":
        return _render_new_thread(category, form, suggestions=_answers_for(title), checked=True)
    if not form.validate_on_submit():
        return _render_new_thread(category, form, 400)
    tags = _valid_tags(form)
    if tags is None:
        return _render_new_thread(category, form, 400)
    findings = findings_block(form, title, body)
    if findings:
        return _render_new_thread(category, form, 400, findings=findings)
    if category is None:
        category = category_or_404(form.category.data)
    thread = threads.create_thread(category, current_user, title, body, tags)
    db.session.flush()
    publish(threads.first_post(thread), "thread")
    flash("Your question is posted. You will get an email when someone replies.", "success")
    return redirect(thread_url(thread))


@bp.route("/forums/answers")
@limiter.limit(lambda: current_app.config["FORUMS_ANSWERS_RATE_LIMIT"], key_func=user_key)
def answers():
    """JSON for the composer: matching articles and solved threads, and whether the text sounds like an outage."""
    limit = current_app.config["FORUMS_DEFLECTION_QUERY_MAX_LENGTH"]
    query = (request.args.get("q") or "")[:limit].strip()
    text = (request.args.get("text") or "")[: current_app.config["FORUMS_POST_MAX_LENGTH"]]
    signals = deflection.detect_outage(f"{query}\n{text}")
    return jsonify(
        {
            "results": _answers_for(query) if query else [],
            "outage": {
                "detected": bool(signals),
                "signals": [s.label for s in signals],
                "severity": deflection.suggested_severity(signals),
            },
        }
    )


@bp.route("/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@draft_limit
@new_account_limit
@post_limit
def reply(thread_id: int):
    """Reply to a thread (GET shows the full-page composer, optionally quoting a post)."""
    thread = thread_or_404(thread_id)
    form_path = url_for("forums.reply", thread_id=thread.id)
    detour = signed_out(form_path, ("body",))
    if detour:
        return detour
    if not permissions.address_ok_for_posting(current_user):
        return error_response(403, UNVERIFIED_MESSAGE)
    if not permissions.can_reply(current_user, thread):
        return error_response(403, "This thread is locked, so it takes no new replies. Start a new thread instead.")
    form = ReplyForm()
    if request.method == "GET":
        draft = restore_draft(form_path)
        if draft:
            form.body.data = draft.get("body", "")
        quote_id = int_arg("quote", None)
        if quote_id:
            quoted = db.session.get(Post, quote_id)
            if quoted is not None and quoted.thread_id == thread.id and permissions.can_see_post(current_user, quoted) and quoted.visible:
                form.body.data = threads.quote_markdown(quoted) + (form.body.data or "")
        return _render_reply(thread, form)
    if request.form.get("action") == "case":
        return case_draft_redirect(thread.title, form.body.data or "")
    refused = _take_image(form)
    if refused:
        return _render_reply(thread, form, refused)
    if not form.validate_on_submit():
        return _render_reply(thread, form, 400)
    findings = findings_block(form, form.body.data)
    if findings:
        return _render_reply(thread, form, 400, findings=findings)
    post = threads.add_reply(thread, current_user, form.body.data)
    publish(post, "reply")
    flash("Your reply is posted.", "success")
    return redirect(post_url(post))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@draft_limit
@post_limit
def edit_post(post_id: int):
    """Edit your own post; the old text is kept in the history staff can read."""
    post = post_or_404(post_id)
    form_path = url_for("forums.edit_post", post_id=post.id)
    detour = signed_out(form_path, ("title", "body", "tags"))
    if detour:
        return detour
    if not permissions.can_edit(current_user, post):
        return error_response(403, "You can only edit your own posts, and not once the thread is locked.")
    form = EditForm()
    if request.method == "GET":
        draft = restore_draft(form_path) or {}
        form.body.data = draft.get("body") or post.body
        if post.is_first:
            form.title.data = draft.get("title") or post.thread.title
            form.tags.data = draft.get("tags") or ", ".join(post.thread.tags or [])
        return _render_edit(post, form)
    if not post.is_first:
        form.title.data = None
        form.title.validators = []
    refused = _take_image(form)
    if refused:
        return _render_edit(post, form, refused)
    if not form.validate_on_submit():
        return _render_edit(post, form, 400)
    tags = _valid_tags(form) if post.is_first else None
    if post.is_first and tags is None:
        return _render_edit(post, form, 400)
    findings = findings_block(form, form.title.data or "", form.body.data)
    if findings:
        return _render_edit(post, form, 400, findings=findings)
    threads.edit_post(post, current_user, form.body.data, title=form.title.data if post.is_first else None, tags=tags)
    db.session.commit()
    flash("Your changes are saved.", "success")
    return redirect(post_url(post))


@bp.errorhandler(429)
def too_many(error):
    """A limit hit while posting: the same form, the same text, and a clear message."""
    if request.endpoint == "forums.answers":
        return error_response(429, "Too many look-ups in a short time; suggestions pause for a minute.")
    message = (
        "You have posted a lot in a short time. "
        + ("New accounts can post only a few times at first; this limit goes away after a few days. " if is_new_account() else "")
        + "Your text is still here: wait a few minutes, then send it again."
    )
    if not current_user.is_authenticated:
        message = ("Many drafts came from your address in a short time, so this one was not kept. "
                   "Your text is still here: sign in first, then send it again.")
    endpoint = request.endpoint
    view_args = request.view_args or {}
    if request.method == "POST" and endpoint == "forums.new_thread":
        return _render_new_thread(category_or_404(view_args["slug"]), ThreadForm(), 429, rate_limited=message)
    if request.method == "POST" and endpoint == "forums.ask":
        return _render_new_thread(None, _ask_form(), 429, rate_limited=message)
    if request.method == "POST" and endpoint == "forums.reply":
        return _render_reply(thread_or_404(view_args["thread_id"]), ReplyForm(), 429, rate_limited=message)
    if request.method == "POST" and endpoint == "forums.edit_post":
        return _render_edit(post_or_404(view_args["post_id"]), EditForm(), 429, rate_limited=message)
    return error_response(429, message)
