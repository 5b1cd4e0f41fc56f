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


def _hours(seconds: int) -> str:
    hours = max(1, seconds // 3600)
    return f"{hours // 24} days" if hours >= 48 else f"{hours} hours"


def send_verification(user: User, token: str) -> None:
    link = url_for("accounts.verify_email", token=token, _external=True)
    site = current_app.config["SITE_NAME"]
    send_mail(
        to=[user.email],
        subject=f"Confirm your {site} address",
        body=(
            f"Hello {user.display_name},\n\n"
            f"Confirm that this address is yours to finish setting up your {site} account "
            f"(the link works for {_hours(current_app.config['EMAIL_VERIFY_MAX_AGE'])}):\n\n{link}\n\n"
            "If your organisation has listed its email domain with us, confirming also gives you access to "
            "its support cases.\n\nIf you did not create an account, ignore this email.\n"
        ),
    )


def send_already_registered(user: User) -> None:
    """Someone registered with an address that has an account: tell its owner, not the person registering."""
    site = current_app.config["SITE_NAME"]
    send_mail(
        to=[user.email],
        subject=f"Your {site} account",
        body=(
            f"Hello {user.display_name},\n\n"
            f"Someone (hopefully you) tried to create a {site} account with this address, which already has one.\n"
            f"Sign in here: {url_for('accounts.login', _external=True)}\n"
            f"Forgotten the password? Choose a new one: {url_for('accounts.reset_request', _external=True)}\n\n"
            "If this was not you, ignore this email; nothing has changed.\n"
        ),
    )


def send_invitation(user: User, token: str, actor: User) -> None:
    link = url_for("accounts.accept_invite", token=token, _external=True)
    site = current_app.config["SITE_NAME"]
    where = f" for {user.organization.name}" if user.organization else ""
    send_mail(
        to=[user.email],
        subject=f"You are invited to {site}",
        body=(
            f"Hello {user.display_name},\n\n"
            f"{actor.display_name} created a {site} account{where} for you ({user.role.value}).\n"
            f"Choose your password here (the link works for {_hours(current_app.config['INVITE_MAX_AGE'])} "
            f"and only once):\n\n{link}\n"
        ),
    )
