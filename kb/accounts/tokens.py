"""Personal API tokens, and the signed links in account emails (password reset, invitation, address check)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from kb.accounts.models import ApiToken, User
from kb.extensions import db
from kb.types import utcnow

TOKEN_PREFIX = "kbt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Add a new token for the user and return it with its plaintext, which is shown once."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_hash(plaintext), prefix=plaintext[:12])
    db.session.add(token)
    return token, plaintext


def user_for_api_token(plaintext: str | None) -> User | None:
    """The active user owning this token, or None; records when the token was last used."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext)))
    if token is None or token.user.disabled:
        return None
    token.last_used_at = utcnow()
    return token.user


def user_from_authorization_header(header: str | None) -> User | None:
    """Parse ``Authorization: Bearer <token>``."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return user_for_api_token(value.strip())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _reset_serializer() -> URLSafeTimedSerializer:
    return _serializer("kb-password-reset")


def _password_fingerprint(user: User) -> str:
    # Part of the current hash: once the password changes, every older reset link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"uid": user.id, "fp": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unused reset token belongs to; None otherwise."""
    return _password_link_user("kb-password-reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])


def make_invite_token(user: User) -> str:
    """The set-password link of an invitation; it stops working once a password is chosen."""
    return _serializer("kb-invite").dumps({"uid": user.id, "fp": _password_fingerprint(user)})


def user_for_invite_token(token: str) -> User | None:
    return _password_link_user("kb-invite", token, current_app.config["INVITE_MAX_AGE"])


def make_verify_token(user: User) -> str:
    """The address-check link: bound to the user and the address it was sent to."""
    return _serializer("kb-verify-email").dumps({"uid": user.id, "email": user.email})


def user_for_verify_token(token: str) -> User | None:
    data = _load("kb-verify-email", token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = _active_user(data)
    if user is None or not hmac.compare_digest(str(data.get("email", "")), user.email):
        return None
    return user


def _load(salt: str, token: str, max_age: int) -> dict | None:
    if not isinstance(token, str) or len(token) > 1000:
        return None
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    return data if isinstance(data, dict) else None


def _active_user(data: dict | None) -> User | None:
    if data is None or not isinstance(data.get("uid"), int) or isinstance(data.get("uid"), bool):
        return None
    if not 0 < data["uid"] < 2**31:
        return None
    user = db.session.get(User, data["uid"])
    return None if user is None or user.disabled else user


def _password_link_user(salt: str, token: str, max_age: int) -> User | None:
    data = _load(salt, token, max_age)
    user = _active_user(data)
    if user is None or not hmac.compare_digest(str(data.get("fp", "")), _password_fingerprint(user)):
        return None
    return user
