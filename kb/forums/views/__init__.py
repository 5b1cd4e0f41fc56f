"""The forums blueprint: every forum page registers on this one ``bp`` (endpoints ``forums.<view>``).

Where to look:
- ``browse``    reading: /forums/, a category, a thread page, /posts/<id> links, Atom feeds
- ``composer``  writing: new thread (answers before asking, /forums/answers), reply, edit, the 429 page
- ``posts``     one-button actions on a post: delete, restore, hide, accept, like; flag; edit history
- ``watching``  watch a thread or category, the email unsubscribe link, /notifications
- ``staff``     /moderation/: flag queue, lock/pin/move, knowledge capture, categories, secret patterns
- ``common``    helpers they share: loading objects the viewer may see (404), sign-in detours
                with drafts kept, the one-button form check, the posting rate limits
Logic lives in the plain modules (kb.forums.threads, moderation, notifications, drafts, capture, deflection).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("forums", __name__)

# Imported for their routes, which register on ``bp``; they import ``bp`` from here, so this comes last.
from kb.forums.views import browse, composer, posts, staff, watching  # noqa: F401
