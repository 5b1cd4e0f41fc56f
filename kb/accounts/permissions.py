"""Who may do what by role: the one "at least" check, the active-staff query and the decorators every feature uses."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from kb.accounts.models import Role, User


def role_of(user) -> Role | None:
    """The role of a signed-in user; None for anonymous visitors (who are below every rung)."""
    return user.role if getattr(user, "is_authenticated", False) else None


def at_least(user, minimum: Role) -> bool:
    """Is the user signed in with ``minimum`` or a higher role on the ladder (customer < staff < admin)?"""
    role = role_of(user)
    return role is not None and role.includes(minimum)


def is_staff(user) -> bool:
    return at_least(user, Role.STAFF)


def is_admin(user) -> bool:
    return at_least(user, Role.ADMIN)


def active_staff() -> Select:
    """Enabled staff and admin accounts: who may be assigned a case or alerted about one."""
    return select(User).where(User.role.in_(Role.at_least(Role.STAFF)), User.disabled.is_(False))


def is_active_staff(user) -> bool:
    """The same rule as :func:`active_staff`, for one user already loaded."""
    return user is not None and is_staff(user) and not user.disabled


def role_required(minimum: Role):
    """Send anonymous users to log in; answer 403 to users below ``minimum``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not at_least(current_user, minimum):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.STAFF)
admin_required = role_required(Role.ADMIN)
