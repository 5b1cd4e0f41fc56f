"""Accounts: users, organisations, roles, login, API tokens and admin pages."""

from __future__ import annotations

from flask import Flask, request

from kb import page_cache
from kb.accounts import mail_admin  # noqa: F401  (registers /admin/mail on bp)
from kb.accounts import admin_views  # noqa: F401  (registers the admin pages on bp)
from kb.accounts.models import User
from kb.accounts.views import bp
from kb.extensions import login_manager
from kb.hooks import register_nav
from kb.security import ApiAwareSessionInterface


def init_app(app: Flask) -> None:
    from kb.accounts.cli import create_org_command, create_user_command
    from kb.accounts.sessions import user_for_identity
    from kb.accounts.tokens import user_from_authorization_header

    app.register_blueprint(bp)
    app.session_interface = ApiAwareSessionInterface()
    app.cli.add_command(create_org_command)
    app.cli.add_command(create_user_command)

    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        # The API is bearer-token only: a browser's session cookie must not authenticate it (no CSRF there).
        if request.path.startswith("/api/"):
            return None
        return user_for_identity(identity)

    @login_manager.request_loader
    def load_user_from_token(req):
        # Bearer tokens authenticate API calls only; pages use the session cookie.
        if not request.path.startswith("/api/"):
            return None
        return user_from_authorization_header(req.headers.get("Authorization"))

    register_nav(app, "Admin", "accounts.admin_users", visible=lambda user: getattr(user, "is_admin", False))
    # A user's own pages (kept for them by the page cache) show their name, role, timezone and organization.
    page_cache.track_viewers(app, User.page_version)
    page_cache.watch_viewer(app, User, "id")
