"""Rate limits on signing in: per address (every attempt) and per account (failed attempts only)."""

from __future__ import annotations

from flask import current_app, request

from kb.extensions import limiter


def _account_key() -> str:
    """The account an attempt is for, as typed (normalised), whether or not such an account exists."""
    email = (request.form.get("email") or "").replace("\x00", "").strip().lower()
    return "account:" + email[: int(current_app.config["EMAIL_MAX_LENGTH"])]


def _failed(response) -> bool:
    """A login that did not sign anyone in (the form came back, 400)."""
    return response.status_code == 400


# Guessing one account's password from many addresses hits this; its owner sees only the usual
# "too often" page, which says nothing about the account.
login_account_limit = limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    key_func=_account_key,
    scope="login-account",
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=lambda: not (request.form.get("email") or "").strip(),
)
