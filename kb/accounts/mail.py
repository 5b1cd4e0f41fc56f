"""Emails the accounts feature sends."""

from __future__ import annotations

from flask import current_app, url_for

from kb.accounts.models import User
from kb.mail import send_template


def send_reset_link(user: User, token: str) -> None:
    """Queue the reset link; the caller commits."""
    link = url_for("accounts.reset_password", token=token, _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    send_template(
        [user.email], "password_reset", f"Reset your {current_app.config['SITE_NAME']} password",
        user_name=user.display_name, minutes=minutes, action_url=link, action_label="Choose a new password",
        reason="You get this email because someone asked to reset the password of your account.",
        stop_text="If you did not ask for this, ignore this email; your password stays as it is",
    )
