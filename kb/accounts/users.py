"""Creating and finding users and organisations, shared by the web forms and the CLI."""

from __future__ import annotations

import re
import secrets
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from kb.accounts.models import Organization, Plan, Role, User
from kb.extensions import db
from kb.types import utcnow


class AccountError(ValueError):
    """A clear, user-facing reason why an account change was refused."""


def normalize_email(raw: str) -> str:
    """Lower-cased, validated address; raises AccountError with the reason when it is not one."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(str(exc)) from None
    return result.normalized.lower()


# Bidirectional overrides and isolates, marks, and zero-width characters: invisible, and in a name
# they only serve to make one person's name look like another's (or reverse what follows it).
_INVISIBLE = re.compile("[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0]")
_SPACES = re.compile(r"\s+")
_NOT_LETTERS = re.compile(r"[\W_]+")


def clean_display_name(raw):
    """A display name without invisible or direction-changing characters, single-spaced and trimmed."""
    if not isinstance(raw, str):
        return raw
    return _SPACES.sub(" ", _INVISIBLE.sub("", raw)).strip()


def check_display_name(name: str, staff: bool, reserved_words) -> str:
    """Words such as "Support" or "Admin" are for staff: a customer may not look like the support team."""
    if staff:
        return name
    folded = unicodedata.normalize("NFKC", name).casefold()
    reserved = {word.casefold() for word in reserved_words}
    words = set(_NOT_LETTERS.split(folded)) | {_NOT_LETTERS.sub("", folded)}
    taken = sorted(words & reserved)
    if taken:
        raise AccountError(f"Display names with “{taken[0]}” in them are kept for the support team; choose another.")
    return name


def valid_timezone(name: str) -> str:
    """The name itself when it is an IANA timezone; AccountError otherwise (never an OSError from tzdata)."""
    shown = name if isinstance(name, str) and len(name) <= 64 else f"{str(name)[:64]}…"
    if not isinstance(name, str) or not name or len(name) > 64 or "\x00" in name:
        raise AccountError(f"Unknown timezone {shown!r}; use an IANA name such as Europe/London.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise AccountError(f"Unknown timezone {shown!r}; use an IANA name such as Europe/London.") from None
    return name


_ZONES: list[str] | None = None


def timezone_choices() -> list[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    return _ZONES


def user_by_email(email: str) -> User | None:
    try:
        normalized = normalize_email(email)
    except AccountError:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == normalized))


_DUMMY_HASH: str | None = None


def authenticate(email: str, password: str) -> User | None:
    """The user with this address and password, or None; an unknown address costs the same hashing time."""
    global _DUMMY_HASH
    user = user_by_email(email)
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash(secrets.token_hex(16))
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def create_user(
    email: str,
    password: str,
    display_name: str | None = None,
    role: Role = Role.CUSTOMER,
    organization: Organization | None = None,
    timezone: str | None = None,
    min_password_length: int = 10,
    verified: bool = True,
) -> User:
    """Add a new user to the session; the caller commits.

    Accounts an admin or the CLI creates count as verified; self-registered and invited ones do not
    until their owner opens the emailed link.
    """
    address = normalize_email(email)
    if user_by_email(address) is not None:
        raise AccountError("An account with this email address already exists.")
    if len(password) < min_password_length:
        raise AccountError(f"The password must be at least {min_password_length} characters long.")
    if timezone is None:
        timezone = organization.timezone if organization is not None else "UTC"
    name = clean_display_name(display_name or "") or address.split("@")[0]
    check_display_name(name, role in (Role.STAFF, Role.ADMIN), current_app.config["RESERVED_DISPLAY_NAME_WORDS"])
    user = User(
        email=address,
        display_name=name[:80],
        role=role,
        organization=organization,
        timezone=valid_timezone(timezone),
        email_verified_at=utcnow() if verified else None,
    )
    user.set_password(password)
    db.session.add(user)
    return user


def organization_by_name(name: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(func.lower(Organization.name) == name.strip().lower()))


def create_organization(name: str, plan: Plan | str = Plan.STANDARD, timezone: str = "UTC") -> Organization:
    name = (name or "").strip()
    if not name:
        raise AccountError("An organisation needs a name.")
    if len(name) > 120:
        raise AccountError("An organisation name can be at most 120 characters.")
    if organization_by_name(name) is not None:
        raise AccountError(f"An organisation named {name!r} already exists.")
    try:
        plan = Plan(plan)
    except ValueError:
        raise AccountError(f"Unknown plan {plan!r}; choose standard or premium.") from None
    org = Organization(name=name, plan=plan, timezone=valid_timezone(timezone), holidays=[])
    db.session.add(org)
    return org
