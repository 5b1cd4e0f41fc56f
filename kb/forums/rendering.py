"""A forum post's HTML, rendered once per worker for all the viewers who see it alike.

A thread page with twenty replies spent most of its time in the post template. The template
(``forums/_post.html``) reads only its arguments, and the key below holds every one of them: the
post's and thread's state that it shows, and what the viewer may do with the post. So a piece is
shared by every customer who neither wrote nor liked that reply, and any edit, like, hiding,
acceptance or role change makes a new key.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from flask import current_app
from flask_login import current_user
from markupsafe import Markup

from kb.forums import permissions
from kb.forums.urls import thread_url
from kb.page_cache.pieces import piece
from kb.templating import viewer_zone


class PageViewer(NamedTuple):
    """What the viewer of one thread page may do there, worked out once per page."""

    signed_in: bool
    user_id: int | None
    staff: bool
    can_reply: bool
    can_accept: bool
    zone: str  # times are shown in it
    sign_in_next: str | None  # where "Sign in to reply" comes back to


class PostView(NamedTuple):
    """The viewer's flags for one post, as the post template reads them."""

    signed_in: bool
    staff: bool
    can_reply: bool
    can_accept: bool
    own: bool
    liked: bool
    can_edit: bool


def page_viewer(thread, staff: bool, can_accept: bool) -> PageViewer:
    signed_in = bool(current_user.is_authenticated)
    return PageViewer(signed_in, current_user.id if signed_in else None, staff,
                      permissions.can_reply(current_user, thread), can_accept, viewer_zone().key,
                      None if signed_in else thread_url(thread))


def post_html(post, thread, viewer: PageViewer, liked: set[int], heading: str = "h3", label: str | None = None,
              accepted_view: bool = False) -> Markup:
    """One post as ``forums/_post.html`` renders it for this viewer."""
    view = PostView(viewer.signed_in, viewer.staff, viewer.can_reply, viewer.can_accept,
                    viewer.user_id == post.author_id, post.id in liked,
                    permissions.can_edit(current_user, post))
    author = post.author
    # The body by digest: the key would otherwise hold a second copy of every stored post.
    body = hashlib.blake2b(post.body_html.encode(), digest_size=16).digest()
    key = ("forum-post", post.id, body, post.created_at, post.edited_at, post.like_count, post.is_first,
           post.hidden_at, post.deleted_at, post.deleted_by_id, post.author_id, author.display_name, author.is_staff,
           thread.id, thread.author_id, thread.accepted_post_id, view, viewer.zone, viewer.sign_in_next,
           heading, label, accepted_view)

    def render() -> str:
        macro = current_app.jinja_env.get_template("forums/_post.html").module.render_post
        return macro(post, thread, view, heading=heading, label=label, accepted_view=accepted_view,
                     sign_in_next=viewer.sign_in_next)

    return piece(key, render)
