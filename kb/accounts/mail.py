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


def _hours(seconds: int) -> str:
    hours = max(1, seconds // 3600)
    return f"{hours // 24} days" if hours >= 48 else f"{hours} hours"


def _notice(user: User, subject: str, text: str, action_url: str, action_label: str, reason: str,
            stop_text: str = "") -> None:
    """Queue an account message in the one mail layout (text, a button, why the reader gets it)."""
    send_template([user.email], "account_notice", subject, text=text, action_url=action_url,
                  action_label=action_label, reason=reason, stop_text=stop_text)


def send_verification(user: User, token: str) -> None:
    site = current_app.config["SITE_NAME"]
    _notice(
        user, f"Confirm your {site} address",
        f"Hello {user.display_name},\n\n"
        f"Confirm that this address is yours to finish setting up your {site} account "
        f"(the link works for {_hours(current_app.config['EMAIL_VERIFY_MAX_AGE'])}).\n\n"
        "If your organisation has listed its email domain with us, confirming also gives you access to "
        "its support cases.",
        url_for("accounts.verify_email", token=token, _external=True), "Confirm my address",
        f"You get this email because someone created a {site} account with this address.",
        "If you did not create an account, ignore this email",
    )


def send_already_registered(user: User) -> None:
    """Someone registered with an address that has an account: tell its owner, not the person registering."""
    site = current_app.config["SITE_NAME"]
    _notice(
        user, f"Your {site} account",
        f"Hello {user.display_name},\n\n"
        f"Someone (hopefully you) tried to create a {site} account with this address, which already has one.\n\n"
        f"Forgotten the password? Choose a new one: {url_for('accounts.reset_request', _external=True)}",
        url_for("accounts.login", _external=True), "Sign in",
        f"You get this email because someone tried to register this address on {site}.",
        "If this was not you, ignore this email; nothing has changed",
    )


def send_invitation(user: User, token: str, actor: User) -> None:
    site = current_app.config["SITE_NAME"]
    where = f" for {user.organization.name}" if user.organization else ""
    _notice(
        user, f"You are invited to {site}",
        f"Hello {user.display_name},\n\n"
        f"{actor.display_name} created a {site} account{where} for you ({user.role.value}).\n"
        f"Choose your password (the link works for {_hours(current_app.config['INVITE_MAX_AGE'])} and only once).",
        url_for("accounts.accept_invite", token=token, _external=True), "Choose my password",
        f"You get this email because an administrator of {site} invited you.",
    )
