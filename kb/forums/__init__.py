"""Community forums: categories, threads, answers, watching, moderation and the secret scanner."""

from __future__ import annotations

import click
from flask import Flask, render_template
from flask.cli import with_appcontext
from flask_login import current_user
from sqlalchemy import select

from kb.extensions import db
from kb.forums import settings
from kb.forums.views import bp
from kb.hooks import (
    register_home_section,
    register_init_step,
    register_nav,
    register_sitemap,
    register_slot,
)


@click.command("forums-seed")
@with_appcontext
def seed_command() -> None:
    """Create the forum categories from content/forums.yml that do not exist yet."""
    from kb.forums.seed import init_step
    from kb.hooks import InitStepError

    try:
        click.echo(init_step())
    except InitStepError as exc:
        raise click.ClickException(str(exc)) from None


def _home_context(user) -> dict:
    from kb.forums import threads

    query = threads.by_activity(threads.visible_threads(user), pinned_first=False)
    return {"threads": db.session.scalars(query.limit(_config("FORUMS_HOME_THREADS"))).all()}


def _is_staff(user) -> bool:
    from kb.forums.permissions import is_staff

    return is_staff(user)


def _config(key: str):
    from flask import current_app

    return current_app.config[key]


def _sitemap():
    """Forum pages an anonymous visitor may read: the index, public categories and their threads."""
    from kb.forums.models import ForumCategory, Thread
    from kb.forums.search_docs import thread_url

    yield "/forums/", None
    public = db.session.scalars(select(ForumCategory).where(ForumCategory.read_access == "everyone")).all()
    for category in public:
        yield f"/forums/{category.slug}/", None
    query = (
        select(Thread)
        .where(Thread.category_id.in_([c.id for c in public]), Thread.removed.is_(False))
        .order_by(Thread.last_activity_at.desc())
        .limit(_config("FORUMS_SITEMAP_THREADS"))
    )
    for thread in db.session.scalars(query):
        yield thread_url(thread), thread.last_activity_at


def _user_menu() -> str:
    from flask import current_app

    from kb.forums.notifications import unread_count
    from kb.hooks import notification_sources

    if not current_user.is_authenticated:
        return ""
    unread = unread_count(current_user) + sum(s.unread(current_user) for s in notification_sources(current_app).values())
    return render_template("forums/_user_menu.html", unread=unread)


def _register_search(app: Flask) -> None:
    import kb.search
    from kb.forums.models import ForumCategory, Post, Thread
    from kb.forums.search_docs import (
        all_thread_ids,
        build_thread_docs,
        category_thread_ids,
    )

    kb.search.register_kind(
        app,
        kind="thread",
        build=build_thread_docs,
        all_ids=all_thread_ids,
        watch={
            Thread: lambda t: [t.id],
            Post: lambda p: [p.thread_id],
            ForumCategory: category_thread_ids,
        },
    )


def init_app(app: Flask) -> None:
    from kb.forums.seed import init_step

    settings.apply(app.config)
    app.register_blueprint(bp)
    app.cli.add_command(seed_command)
    register_init_step(app, 30, "Seeding forum categories", init_step)
    register_nav(app, "Community", "forums.index", 30)
    register_nav(app, "Moderation", "forums.moderation_queue", 85, visible=_is_staff)
    register_home_section(app, "forums/_home_section.html", _home_context, 30)
    register_sitemap(app, _sitemap)
    register_slot(app, "user-menu", _user_menu)
    _register_search(app)
