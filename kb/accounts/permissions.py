"""Who may do what with accounts; the role_required decorator every feature uses."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from kb.accounts.models import Role


def has_role(user, *roles: Role) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def is_staff(user) -> bool:
    return has_role(user, Role.STAFF, Role.ADMIN)


def is_admin(user) -> bool:
    return has_role(user, Role.ADMIN)


def role_required(*roles: Role):
    """Send anonymous users to log in; answer 403 to users without one of the roles."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.STAFF, Role.ADMIN)
admin_required = role_required(Role.ADMIN)
