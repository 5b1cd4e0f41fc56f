"""Creating and finding users and organisations, shared by the web forms and the CLI."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

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
    user = User(
        email=address,
        display_name=(display_name or address.split("@")[0]).strip()[:80],
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
