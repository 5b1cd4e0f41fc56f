"""Personal API tokens and password-reset tokens."""

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


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kb-password-reset")


def _password_fingerprint(user: User) -> str:
    # Part of the current hash: once the password changes, every older reset link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"uid": user.id, "fp": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unused reset token belongs to; None otherwise."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("uid")) if isinstance(data.get("uid"), int) else None
    if user is None or user.disabled:
        return None
    if not hmac.compare_digest(str(data.get("fp", "")), _password_fingerprint(user)):
        return None
    return user
