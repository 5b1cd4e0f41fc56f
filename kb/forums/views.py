"""Forum pages: lists, threads, the composer, answers, watching, notifications, moderation and feeds."""

from __future__ import annotations

import secrets as token_source
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from kb.errors import error_response
from kb.extensions import csrf, db, limiter
from kb.forums import deflection, moderation, notifications, permissions, threads
from kb.forums.forms import CategoryForm, EditForm, FlagForm, MoveForm, ReplyForm, SecretPatternForm, ThreadForm
from kb.forums.models import Draft, ForumCategory, Post, PostRevision, SecretPattern, Thread
from kb.forums.seed import SeedError, validate_slug
from kb.forums.threads import ForumError
from kb.types import utcnow

bp = Blueprint("forums", __name__)


# --- Helpers -----------------------------------------------------------------------------------

def _is_new_account() -> bool:
    if not current_user.is_authenticated or permissions.is_staff(current_user):
        return False
    age = timedelta(seconds=current_app.config["FORUMS_NEW_ACCOUNT_AGE"])
    return utcnow() - current_user.created_at < age


def _user_key() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


def _counts(response) -> bool:
    """Only posts that were accepted (a redirect to the new post) use up the allowance."""
    return response.status_code in (301, 302, 303)


_new_account_limit = limiter.shared_limit(
    lambda: current_app.config["FORUMS_NEW_ACCOUNT_POST_RATE_LIMIT"],
    scope="forum-posts-new-accounts",
    key_func=_user_key,
    methods=["POST"],
    exempt_when=lambda: not _is_new_account(),
    deduct_when=_counts,
)
_post_limit = limiter.shared_limit(
    lambda: current_app.config["FORUMS_POST_RATE_LIMIT"],
    scope="forum-posts",
    key_func=_user_key,
    methods=["POST"],
    deduct_when=_counts,
)


def _category_or_404(slug: str) -> ForumCategory:
    category = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == slug))
    if category is None or not permissions.can_read(current_user, category):
        abort(404)
    return category


def _thread_or_404(thread_id: int) -> Thread:
    thread = db.session.scalar(
        select(Thread).where(Thread.id == thread_id).options(joinedload(Thread.category), joinedload(Thread.author))
    )
    if thread is None or not permissions.can_see_thread(current_user, thread):
        abort(404)
    return thread


def _post_or_404(post_id: int) -> Post:
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


def _thread_url(thread: Thread, **kwargs) -> str:
    return url_for("forums.thread", thread_id=thread.id, slug=thread.slug or None, **kwargs)


def _post_url(post: Post) -> str:
    """The thread page that shows a post, anchored at it."""
    thread = post.thread
    if post.is_first:
        return _thread_url(thread) + f"#post-{post.id}"
    earlier = db.session.scalar(
        select(db.func.count(Post.id)).where(Post.thread_id == thread.id, Post.is_first.is_(False), Post.id < post.id)
    )
    page = earlier // current_app.config["FORUMS_POSTS_PER_PAGE"] + 1
    return _thread_url(thread, page=page if page > 1 else None) + f"#post-{post.id}"


def _login_redirect(next_path: str):
    return redirect(url_for("accounts.login", next=next_path))


def _keep_draft_and_login(form_path: str, fields: tuple[str, ...]):
    """A signed-out POST: keep what was typed on the server, send the visitor to sign in, then back."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["FORUMS_DRAFT_MAX_AGE"])
    db.session.execute(delete(Draft).where(Draft.created_at < cutoff))
    token = token_source.token_urlsafe(24)
    limit = current_app.config["FORUMS_POST_MAX_LENGTH"] * 2
    data = {name: request.form.get(name, "").replace("\x00", "")[:limit] for name in fields}
    db.session.add(Draft(token=token, path=form_path, data=data))
    db.session.commit()
    session["forum_draft"] = token
    flash("Please sign in to post. What you wrote is kept and will be waiting for you.", "info")
    return _login_redirect(form_path)


def _restore_draft(path: str) -> dict | None:
    token = session.get("forum_draft")
    if not token:
        return None
    draft = db.session.scalar(select(Draft).where(Draft.token == token))
    if draft is None or draft.path != path:
        return None
    data = dict(draft.data or {})
    db.session.delete(draft)
    db.session.commit()
    session.pop("forum_draft", None)
    return data


def _findings_block(form, *texts: str):
    """Secret-scanner findings that should stop this submission (none once the user confirmed)."""
    findings = moderation.scan_for_secrets(*texts)
    if findings and form.confirm_no_secrets.data:
        return []
    return findings


def _case_draft_redirect(title: str, body: str):
    """Hand the question to the cases feature as a private draft."""
    limit = current_app.config["FORUMS_CASE_DRAFT_MAX_LENGTH"]
    description = body if len(body) <= limit else body[:limit] + "\n\n[…shortened; paste the rest into the case]"
    session["case_draft"] = {"title": title[: current_app.config["FORUMS_TITLE_MAX_LENGTH"]], "description": description}
    return redirect("/cases/new?from=draft")


def _answers_for(query: str, limit: int) -> list[dict]:
    return deflection.find_answers(query, current_user, limit)


def _after_commit_notify(post: Post, kind: str, recipients) -> None:
    if recipients:
        notifications.send_emails(post, kind, recipients)


def _empty_form_ok() -> bool:
    from kb.accounts.forms import EmptyForm

    return EmptyForm().validate_on_submit()


# --- Lists -------------------------------------------------------------------------------------

@bp.route("/forums/")
def index():
    """Every category the visitor may read, with counts, and the latest announcements."""
    categories = threads.readable_categories(current_user)
    stats = threads.category_stats([c.id for c in categories], current_user)
    announcements = db.session.scalars(
        threads.by_activity(threads.visible_threads(current_user).where(Thread.announcement.is_(True)), False).limit(5)
    ).all()
    return render_template("forums/index.html", categories=categories, stats=stats, announcements=announcements)


@bp.route("/forums/<slug>/")
def category(slug: str):
    """One category's threads, latest activity first, with filters."""
    category = _category_or_404(slug)
    filter_name = request.args.get("filter")
    if filter_name not in threads.FILTERS:
        filter_name = None
    query = threads.visible_threads(current_user).where(Thread.category_id == category.id)
    query = threads.by_activity(threads.filtered(query, filter_name, current_user))
    page = db.paginate(query, per_page=current_app.config["FORUMS_THREADS_PER_PAGE"], error_out=False, count=True)
    watching = notifications.subscription_for(current_user, category=category) is not None
    return render_template(
        "forums/category.html",
        category=category,
        page=page,
        filter_name=filter_name,
        watching=watching,
        can_post=permissions.can_post(current_user, category),
    )


# --- The composer ------------------------------------------------------------------------------

def _render_new_thread(category: ForumCategory, form: ThreadForm, status: int = 200, **extra):
    text = f"{form.title.data or ''}\n{form.body.data or ''}"
    signals = deflection.detect_outage(text)
    return (
        render_template(
            "forums/new_thread.html",
            category=category,
            form=form,
            outage=signals,
            severity=deflection.suggested_severity(signals),
            **extra,
        ),
        status,
    )


@bp.route("/forums/<slug>/new", methods=["GET", "POST"])
@_new_account_limit
@_post_limit
def new_thread(slug: str):
    """Ask a question: check for existing answers first, then post (or move it into a private case)."""
    category = _category_or_404(slug)
    form_path = url_for("forums.new_thread", slug=category.slug)
    if not current_user.is_authenticated:
        if request.method == "POST":
            return _keep_draft_and_login(form_path, ("title", "body", "tags"))
        return _login_redirect(form_path)
    if not permissions.can_post(current_user, category):
        return error_response(403, f"Only the support team starts threads in {category.name}. "
                                   "You can reply to them, or ask in another category.")
    form = ThreadForm()
    if request.method == "GET":
        draft = _restore_draft(form_path)
        if draft:
            form.title.data, form.body.data, form.tags.data = draft.get("title"), draft.get("body"), draft.get("tags")
        elif request.args.get("title"):
            form.title.data = request.args.get("title", "")[: current_app.config["FORUMS_TITLE_MAX_LENGTH"]]
        return _render_new_thread(category, form)

    action = request.form.get("action", "post")
    title, body = (form.title.data or "").strip(), form.body.data or ""
    if action == "check":
        return _render_new_thread(
            category, form, suggestions=_answers_for(title, current_app.config["FORUMS_DEFLECTION_RESULTS"]), checked=True
        )
    if action == "case":
        return _case_draft_redirect(title, body)
    if not form.validate_on_submit():
        return _render_new_thread(category, form, 400)
    try:
        tags = threads.parse_tags(form.tags.data)
    except ForumError as exc:
        form.tags.errors = [str(exc)]
        return _render_new_thread(category, form, 400)
    findings = _findings_block(form, title, body)
    if findings:
        return _render_new_thread(category, form, 400, findings=findings)
    thread = threads.create_thread(category, current_user, title, body, tags)
    db.session.flush()
    first_post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    recipients = notifications.notify(first_post, "thread", current_user)
    db.session.commit()
    _after_commit_notify(first_post, "thread", recipients)
    flash("Your question is posted. You will get an email when someone replies.", "success")
    return redirect(_thread_url(thread))


@bp.route("/forums/answers")
@limiter.limit(lambda: current_app.config["FORUMS_ANSWERS_RATE_LIMIT"], key_func=_user_key)
def answers():
    """JSON for the composer: matching articles and solved threads, and whether the text sounds like an outage."""
    limit = current_app.config["FORUMS_DEFLECTION_QUERY_MAX_LENGTH"]
    query = (request.args.get("q") or "")[:limit].strip()
    text = (request.args.get("text") or "")[: current_app.config["FORUMS_POST_MAX_LENGTH"]]
    signals = deflection.detect_outage(f"{query}\n{text}")
    results = _answers_for(query, current_app.config["FORUMS_DEFLECTION_RESULTS"]) if query else []
    return jsonify(
        {
            "results": results,
            "outage": {
                "detected": bool(signals),
                "signals": [s.label for s in signals],
                "severity": deflection.suggested_severity(signals),
            },
        }
    )


# --- Threads -----------------------------------------------------------------------------------

@bp.route("/threads/<int:thread_id>", defaults={"slug": None})
@bp.route("/threads/<int:thread_id>-<slug>")
def thread(thread_id: int, slug: str | None):
    """The question, its accepted answer, and one page of replies."""
    thread = _thread_or_404(thread_id)
    per_page = current_app.config["FORUMS_POSTS_PER_PAGE"]
    question = db.session.scalar(
        select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(True)).options(joinedload(Post.author))
    )
    replies = db.paginate(
        select(Post)
        .where(Post.thread_id == thread.id, Post.is_first.is_(False))
        .options(joinedload(Post.author))
        .order_by(Post.id),
        per_page=per_page,
        error_out=False,
    )
    accepted = None
    if thread.accepted_post_id:
        accepted = db.session.get(Post, thread.accepted_post_id, options=[joinedload(Post.author)])
    shown = [p.id for p in replies.items] + ([question.id] if question else [])
    liked = threads.liked_post_ids(current_user, shown + ([accepted.id] if accepted else []))
    watching = notifications.subscription_for(current_user, thread=thread) is not None
    article = _article_for(thread)
    staff = permissions.is_staff(current_user)
    categories = threads.readable_categories(current_user) if staff else []
    move_form = MoveForm()
    move_form.category_id.choices = [(c.id, c.name) for c in categories]
    move_form.category_id.data = thread.category_id
    draft = _restore_draft(url_for("forums.reply", thread_id=thread.id)) if current_user.is_authenticated else None
    reply_form = ReplyForm(formdata=None, body=(draft or {}).get("body", ""))
    return render_template(
        "forums/thread.html",
        thread=thread,
        question=question,
        replies=replies,
        accepted=accepted,
        liked=liked,
        watching=watching,
        article=article,
        staff=staff,
        move_form=move_form,
        reply_form=reply_form,
        can_reply=permissions.can_reply(current_user, thread),
        can_accept=permissions.can_accept(current_user, thread),
        permissions=permissions,
    )


def _article_for(thread: Thread):
    if not thread.article_id:
        return None
    from kb.articles.models import Article

    return db.session.get(Article, thread.article_id)


def _render_reply(thread: Thread, form: ReplyForm, status: int = 200, **extra):
    return render_template("forums/reply.html", thread=thread, form=form, **extra), status


@bp.route("/threads/<int:thread_id>/reply", methods=["GET", "POST"])
@_new_account_limit
@_post_limit
def reply(thread_id: int):
    """Reply to a thread (GET shows the full-page composer, optionally quoting a post)."""
    thread = _thread_or_404(thread_id)
    form_path = url_for("forums.reply", thread_id=thread.id)
    if not current_user.is_authenticated:
        if request.method == "POST":
            return _keep_draft_and_login(form_path, ("body",))
        return _login_redirect(form_path)
    if not permissions.can_reply(current_user, thread):
        return error_response(403, "This thread is locked, so it takes no new replies. Start a new thread instead.")
    form = ReplyForm()
    if request.method == "GET":
        draft = _restore_draft(form_path)
        if draft:
            form.body.data = draft.get("body", "")
        quote_id = request.args.get("quote", type=int)
        if quote_id:
            quoted = db.session.get(Post, quote_id)
            if quoted is not None and quoted.thread_id == thread.id and permissions.can_see_post(current_user, quoted) and quoted.visible:
                form.body.data = threads.quote_markdown(quoted) + (form.body.data or "")
        return _render_reply(thread, form)
    if request.form.get("action") == "case":
        return _case_draft_redirect(thread.title, form.body.data or "")
    if not form.validate_on_submit():
        return _render_reply(thread, form, 400)
    findings = _findings_block(form, form.body.data)
    if findings:
        return _render_reply(thread, form, 400, findings=findings)
    post = threads.add_reply(thread, current_user, form.body.data)
    db.session.flush()
    recipients = notifications.notify(post, "reply", current_user)
    db.session.commit()
    _after_commit_notify(post, "reply", recipients)
    flash("Your reply is posted.", "success")
    return redirect(_post_url(post))


@bp.get("/posts/<int:post_id>")
def post_link(post_id: int):
    """A stable link to one post: redirects to the page of its thread that shows it."""
    return redirect(_post_url(_post_or_404(post_id)))


def _render_edit(post: Post, form: EditForm, status: int = 200, **extra):
    return render_template("forums/edit.html", post=post, thread=post.thread, form=form, **extra), status


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@_post_limit
def edit_post(post_id: int):
    """Edit your own post; the old text is kept in the history staff can read."""
    post = _post_or_404(post_id)
    form_path = url_for("forums.edit_post", post_id=post.id)
    if not current_user.is_authenticated:
        if request.method == "POST":
            return _keep_draft_and_login(form_path, ("title", "body", "tags"))
        return _login_redirect(form_path)
    if not permissions.can_edit(current_user, post):
        return error_response(403, "You can only edit your own posts, and not once the thread is locked.")
    form = EditForm()
    if request.method == "GET":
        draft = _restore_draft(form_path) or {}
        form.body.data = draft.get("body") or post.body
        if post.is_first:
            form.title.data = draft.get("title") or post.thread.title
            form.tags.data = draft.get("tags") or ", ".join(post.thread.tags or [])
        return _render_edit(post, form)
    if not post.is_first:
        form.title.data = None
        form.title.validators = []
    if not form.validate_on_submit():
        return _render_edit(post, form, 400)
    try:
        tags = threads.parse_tags(form.tags.data) if post.is_first else None
    except ForumError as exc:
        form.tags.errors = [str(exc)]
        return _render_edit(post, form, 400)
    findings = _findings_block(form, form.title.data or "", form.body.data)
    if findings:
        return _render_edit(post, form, 400, findings=findings)
    threads.edit_post(post, current_user, form.body.data, title=form.title.data if post.is_first else None, tags=tags)
    db.session.commit()
    flash("Your changes are saved.", "success")
    return redirect(_post_url(post))


@bp.get("/posts/<int:post_id>/history")
@login_required
def post_history(post_id: int):
    """Earlier versions of an edited post, for staff."""
    if not permissions.can_moderate(current_user):
        abort(403)
    post = _post_or_404(post_id)
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).options(joinedload(PostRevision.editor))
        .order_by(PostRevision.id.desc())
    ).all()
    return render_template("forums/history.html", post=post, thread=post.thread, revisions=revisions)


def _simple_post_action(post_id: int):
    """Shared start of the one-button POSTs: the post, or a redirect to sign in."""
    post = _post_or_404(post_id)
    if not current_user.is_authenticated:
        return post, _login_redirect(_thread_url(post.thread))
    if not _empty_form_ok():
        return post, error_response(400, "The form expired. Go back, reload the page and try again.")
    return post, None


@bp.post("/posts/<int:post_id>/delete")
def delete_post(post_id: int):
    """Soft-delete a post; staff can restore it."""
    post, early = _simple_post_action(post_id)
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
    return redirect(_thread_url(post.thread))


@bp.post("/posts/<int:post_id>/restore")
def restore_post(post_id: int):
    """Staff: bring back a deleted or hidden post."""
    post, early = _simple_post_action(post_id)
    if early:
        return early
    if not permissions.can_moderate(current_user):
        abort(403)
    threads.restore_post(post)
    db.session.commit()
    flash("The post is visible again.", "success")
    return redirect(_post_url(post))


@bp.post("/posts/<int:post_id>/hide")
def hide_post(post_id: int):
    """Staff: hide a post from everyone else and close its flags."""
    post, early = _simple_post_action(post_id)
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
    return redirect(_post_url(post))


@bp.post("/posts/<int:post_id>/accept")
def accept(post_id: int):
    """Mark (or unmark) the accepted answer: the thread's author or staff."""
    post, early = _simple_post_action(post_id)
    if early:
        return early
    if not permissions.can_accept(current_user, post.thread):
        return error_response(403, "Only the person who asked, or the support team, can accept an answer.")
    try:
        threads.accept_post(post)
    except ForumError as exc:
        return error_response(exc.status, str(exc))
    accepted = post.thread.accepted_post_id == post.id
    if accepted and post.author_id != current_user.id:
        db.session.add(
            notifications.Notification(user_id=post.author_id, thread=post.thread, post_id=post.id, kind="accepted",
                                       actor_id=current_user.id)
        )
    db.session.commit()
    flash("Marked as the accepted answer. Thank you for closing the loop." if accepted else "The answer is no longer marked as accepted.", "success")
    return redirect(_thread_url(post.thread) + f"#post-{post.id}")


@bp.post("/posts/<int:post_id>/like")
def like(post_id: int):
    """Like a post, or take the like back; one per person."""
    post, early = _simple_post_action(post_id)
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
    return redirect(_post_url(post))


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
def flag(post_id: int):
    """Ask a moderator to look at a post."""
    post = _post_or_404(post_id)
    form_path = url_for("forums.flag", post_id=post.id)
    if not current_user.is_authenticated:
        return _login_redirect(form_path)
    form = FlagForm()
    if form.validate_on_submit():
        try:
            moderation.flag_post(post, current_user, form.reason.data, (form.note.data or "").strip())
        except ForumError as exc:
            form.reason.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Thank you. A moderator will look at this post.", "success")
            return redirect(_post_url(post))
    status = 400 if form.is_submitted() else 200
    return render_template("forums/flag.html", post=post, thread=post.thread, form=form), status


@bp.post("/threads/<int:thread_id>/watch")
def watch(thread_id: int):
    """Start or stop getting emails about replies to a thread."""
    thread = _thread_or_404(thread_id)
    if not current_user.is_authenticated:
        return _login_redirect(_thread_url(thread))
    if not _empty_form_ok():
        return error_response(400, "The form expired. Go back, reload the page and try again.")
    on = request.form.get("watch") == "1"
    notifications.set_watching(current_user, on, thread=thread)
    db.session.commit()
    flash("You are watching this thread: replies will be emailed to you." if on else "You stopped watching this thread.", "success")
    return redirect(_thread_url(thread))


@bp.post("/forums/<slug>/watch")
def watch_category(slug: str):
    """Start or stop getting emails about new threads and replies in a category."""
    category = _category_or_404(slug)
    if not current_user.is_authenticated:
        return _login_redirect(url_for("forums.category", slug=category.slug))
    if not _empty_form_ok():
        return error_response(400, "The form expired. Go back, reload the page and try again.")
    on = request.form.get("watch") == "1"
    notifications.set_watching(current_user, on, category=category)
    db.session.commit()
    flash(f"You are watching {category.name}." if on else f"You stopped watching {category.name}.", "success")
    return redirect(url_for("forums.category", slug=category.slug))


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


# --- Notifications -----------------------------------------------------------------------------

@bp.get("/notifications")
@login_required
def notifications_page():
    """Replies and new threads in what you watch; opening the page marks them read."""
    page = db.paginate(
        notifications.notifications_query(current_user),
        per_page=current_app.config["FORUMS_NOTIFICATIONS_PER_PAGE"],
        error_out=False,
    )
    unread_ids = [n.id for n in page.items if n.read_at is None]
    response = render_template("forums/notifications.html", page=page, unread_ids=set(unread_ids))
    if unread_ids:
        notifications.mark_read(current_user, unread_ids)
        db.session.commit()
    return response


@bp.post("/notifications/read")
@login_required
def notifications_read():
    """Mark every notification read."""
    if _empty_form_ok():
        notifications.mark_read(current_user)
        db.session.commit()
    return redirect(url_for("forums.notifications_page"))


# --- Moderation --------------------------------------------------------------------------------

def _staff_only():
    if not current_user.is_authenticated:
        return _login_redirect(request.path)
    if not permissions.can_moderate(current_user):
        abort(403)
    return None


@bp.get("/moderation/")
def moderation_queue():
    """Open flags, oldest first, for staff."""
    early = _staff_only()
    if early:
        return early
    page = db.paginate(moderation.open_flags_query(current_user), per_page=current_app.config["FORUMS_FLAGS_PER_PAGE"], error_out=False)
    return render_template("forums/moderation.html", page=page)


@bp.post("/moderation/posts/<int:post_id>/dismiss")
def dismiss_flags(post_id: int):
    """Staff: close a post's flags without hiding it."""
    early = _staff_only()
    if early:
        return early
    post = _post_or_404(post_id)
    if _empty_form_ok():
        count = moderation.resolve_flags(post, current_user, "dismissed")
        db.session.commit()
        flash(f"{count} flag{'s' if count != 1 else ''} dismissed.", "success")
    return redirect(url_for("forums.moderation_queue"))


@bp.post("/threads/<int:thread_id>/moderate")
def moderate_thread(thread_id: int):
    """Staff: lock, pin or announce a thread (and undo each)."""
    early = _staff_only()
    if early:
        return early
    thread = _thread_or_404(thread_id)
    if not _empty_form_ok():
        return error_response(400, "The form expired. Go back, reload the page and try again.")
    try:
        message = moderation.apply_thread_action(thread, request.form.get("action", ""))
    except ForumError as exc:
        return error_response(exc.status, str(exc))
    db.session.commit()
    flash(message, "success")
    return redirect(_thread_url(thread))


@bp.post("/threads/<int:thread_id>/move")
def move(thread_id: int):
    """Staff: move a thread to another category."""
    early = _staff_only()
    if early:
        return early
    thread = _thread_or_404(thread_id)
    form = MoveForm()
    form.category_id.choices = [(c.id, c.name) for c in threads.readable_categories(current_user)]
    if not form.validate_on_submit():
        return error_response(400, "Choose one of the listed categories.")
    target = db.session.get(ForumCategory, form.category_id.data)
    moderation.move_thread(thread, target)
    db.session.commit()
    flash(f"Moved to {target.name}.", "success")
    return redirect(_thread_url(thread))


@bp.post("/threads/<int:thread_id>/capture")
def capture(thread_id: int):
    """Staff: start a knowledge-base article from a solved thread (question and accepted answer)."""
    early = _staff_only()
    if early:
        return early
    thread = _thread_or_404(thread_id)
    if not _empty_form_ok():
        return error_response(400, "The form expired. Go back, reload the page and try again.")
    if thread.article_id and _article_for(thread) is not None:
        article = _article_for(thread)
        flash("This thread already has an article draft.", "info")
        return redirect(f"/articles/{article.slug}/edit")
    if not thread.accepted_post_id:
        return error_response(400, "Accept an answer first: the article is built from the question and its accepted answer.")
    from kb.articles.editing import create_draft

    from kb.forums.capture import article_body

    question = db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(True)))
    answer = db.session.get(Post, thread.accepted_post_id)
    source_url = _thread_url(thread, _external=True)
    title, body, summary = article_body(thread, question, answer, source_url)
    article = create_draft(title, body, current_user, summary=summary, source_url=source_url)
    db.session.flush()
    thread.article_id = article.id
    db.session.commit()
    flash("A draft article is ready. Edit it, then publish it: the thread will link to it.", "success")
    return redirect(f"/articles/{article.slug}/edit")


# --- Categories and scanner patterns (admins / staff) ------------------------------------------

def _render_category_form(form: CategoryForm, category: ForumCategory | None, status: int = 200):
    return render_template("forums/category_form.html", form=form, category=category), status


@bp.get("/moderation/categories")
def manage_categories():
    """Admins: the categories, in order."""
    early = _staff_only()
    if early:
        return early
    if not permissions.can_manage_categories(current_user):
        abort(403)
    categories = db.session.scalars(select(ForumCategory).order_by(ForumCategory.position, ForumCategory.name)).all()
    return render_template("forums/manage_categories.html", categories=categories)


@bp.route("/moderation/categories/new", methods=["GET", "POST"], defaults={"category_id": None})
@bp.route("/moderation/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int | None):
    """Admins: create or change a category (name, address, order, who reads, who posts)."""
    early = _staff_only()
    if early:
        return early
    if not permissions.can_manage_categories(current_user):
        abort(403)
    category = db.session.get(ForumCategory, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        slug = (form.slug.data or "").strip().lower()
        try:
            validate_slug(slug, "Slug")
        except SeedError as exc:
            form.slug.errors = [str(exc)]
            return _render_category_form(form, category, 400)
        clash = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == slug))
        if clash is not None and clash is not category:
            form.slug.errors = ["Another category already uses this slug."]
            return _render_category_form(form, category, 400)
        if category is None:
            category = ForumCategory()
            db.session.add(category)
        form.populate_obj(category)
        category.slug = slug
        db.session.commit()
        flash(f"Category {category.name} saved.", "success")
        return redirect(url_for("forums.manage_categories"))
    return _render_category_form(form, category, 400 if form.is_submitted() else 200)


@bp.route("/moderation/secret-patterns", methods=["GET", "POST"])
def secret_patterns():
    """Staff: the secret scanner's built-in rules and the extra patterns staff added."""
    early = _staff_only()
    if early:
        return early
    from kb.forums.secrets import BUILTIN_RULES

    form = SecretPatternForm()
    status = 200
    if form.validate_on_submit():
        try:
            moderation.validate_pattern(form.pattern.data)
            if db.session.scalar(select(SecretPattern).where(SecretPattern.name == form.name.data.strip())):
                raise ForumError("A pattern with this name exists already.")
        except ForumError as exc:
            form.pattern.errors = [str(exc)]
            status = 400
        else:
            db.session.add(SecretPattern(name=form.name.data.strip(), pattern=form.pattern.data, created_by_id=current_user.id))
            db.session.commit()
            flash("Pattern added: new posts are checked against it from now on.", "success")
            return redirect(url_for("forums.secret_patterns"))
    elif form.is_submitted():
        status = 400
    patterns = db.session.scalars(select(SecretPattern).order_by(SecretPattern.name)).all()
    disabled = set(current_app.config.get("FORUMS_SECRET_PATTERNS_DISABLED") or [])
    return render_template("forums/secret_patterns.html", form=form, patterns=patterns, builtin=BUILTIN_RULES,
                           disabled=disabled, configured=current_app.config.get("FORUMS_SECRET_PATTERNS") or {}), status


@bp.post("/moderation/secret-patterns/<int:pattern_id>/delete")
def delete_secret_pattern(pattern_id: int):
    """Staff: remove a pattern they added."""
    early = _staff_only()
    if early:
        return early
    pattern = db.session.get(SecretPattern, pattern_id) or abort(404)
    if _empty_form_ok():
        db.session.delete(pattern)
        db.session.commit()
        flash("Pattern removed.", "success")
    return redirect(url_for("forums.secret_patterns"))


# --- Feeds -------------------------------------------------------------------------------------

@bp.get("/feeds/forums/<slug>.atom")
def feed(slug: str):
    """The newest threads of a category the requester may read, as Atom."""
    category = _category_or_404(slug)
    items = db.session.scalars(
        select(Thread)
        .where(Thread.category_id == category.id, Thread.removed.is_(False))
        .options(joinedload(Thread.author))
        .order_by(Thread.created_at.desc(), Thread.id.desc())
        .limit(current_app.config["FORUMS_FEED_ITEMS"])
    ).all()
    first_posts = {
        p.thread_id: p
        for p in db.session.scalars(select(Post).where(Post.thread_id.in_([t.id for t in items]), Post.is_first.is_(True)))
    }
    updated = max((t.last_activity_at for t in items), default=category.created_at)
    xml = render_template("forums/feed.xml", category=category, items=items, first_posts=first_posts, updated=updated)
    return Response(xml, mimetype="application/atom+xml")


# --- Rate limits: re-render the form with the text kept -----------------------------------------

@bp.errorhandler(429)
def too_many(error):
    """A limit hit while posting: the same form, the same text, and a clear message."""
    if request.endpoint == "forums.answers":
        return error_response(429, "Too many look-ups in a short time; suggestions pause for a minute.")
    message = (
        "You have posted a lot in a short time. "
        + ("New accounts can post only a few times at first; this limit goes away after a few days. " if _is_new_account() else "")
        + "Your text is still here: wait a few minutes, then send it again."
    )
    endpoint = request.endpoint
    view_args = request.view_args or {}
    if request.method == "POST" and endpoint == "forums.new_thread":
        category = _category_or_404(view_args["slug"])
        return _render_new_thread(category, ThreadForm(), 429, rate_limited=message)
    if request.method == "POST" and endpoint == "forums.reply":
        return _render_reply(_thread_or_404(view_args["thread_id"]), ReplyForm(), 429, rate_limited=message)
    if request.method == "POST" and endpoint == "forums.edit_post":
        return _render_edit(_post_or_404(view_args["post_id"]), EditForm(), 429, rate_limited=message)
    response = error_response(429, message)
    return response
