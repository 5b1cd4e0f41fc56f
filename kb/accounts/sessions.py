"""Revocable logins: which identity in a session or remember cookie still signs a user in.

An identity is ``"<user id>:<session version>:<issued at>"`` (``User.get_id``). The user's session
version is raised on logout, "sign out everywhere", a password change or reset, disabling and a
role change, so every cookie handed out before stops working at once; an identity older than
``LOGIN_LIFETIME_DAYS`` is refused too, whatever the browser kept.
"""

from __future__ import annotations

import re
import time

from flask import current_app, request
from flask_login import login_user
from flask_login.config import COOKIE_NAME

from kb.accounts.models import User
from kb.extensions import db
from kb.security import DB_INT_MAX

_IDENTITY = re.compile(r"(\d{1,10}):(\d{1,10}):(\d{1,12})", re.ASCII)
# A little slack for clocks of several hosts that disagree.
_CLOCK_SKEW_SECONDS = 300


def user_for_identity(identity: str) -> User | None:
    """The user an identity names, if it is current: right version, not expired, not disabled."""
    match = _IDENTITY.fullmatch(identity or "")
    if match is None:
        return None
    user_id, version, issued = (int(part) for part in match.groups())
    age = time.time() - issued
    if user_id > DB_INT_MAX or age < -_CLOCK_SKEW_SECONDS or age > lifetime_seconds():
        return None
    user = db.session.get(User, user_id)
    if user is None or user.disabled or user.session_version != version:
        return None
    return user


def lifetime_seconds() -> int:
    return int(current_app.config["LOGIN_LIFETIME_DAYS"]) * 24 * 60 * 60


def sign_in_again(user: User) -> None:
    """After a change that ended the user's sessions, keep this browser signed in (and remembered if it was)."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    login_user(user, remember=remembered, fresh=True)
