"""Emails the accounts feature sends."""

from __future__ import annotations

from flask import current_app, url_for

from kb.accounts.models import User
from kb.mail import send_mail


def send_reset_link(user: User, token: str) -> None:
    link = url_for("accounts.reset_password", token=token, _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    send_mail(
        to=[user.email],
        subject=f"Reset your {current_app.config['SITE_NAME']} password",
        body=(
            f"Hello {user.display_name},\n\n"
            f"Someone (hopefully you) asked to reset the password of your account.\n"
            f"Choose a new password here within {minutes} minutes:\n\n{link}\n\n"
            "If you did not ask for this, ignore this email; your password stays as it is.\n"
        ),
    )
