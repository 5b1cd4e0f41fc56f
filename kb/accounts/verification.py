"""Proving an address: verification marks it, and a verified address on an organisation's domain joins it.

An unverified address never grants organisation access; the domain rule runs only here.
"""

from __future__ import annotations

import secrets

from kb.accounts import admin
from kb.accounts.models import Organization, Role, User
from kb.accounts.users import create_user
from kb.types import utcnow


def verify(user: User) -> Organization | None:
    """Mark the address verified; returns the organisation it joined through its domain, if any."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    if user.organization is not None or user.role is not Role.CUSTOMER:
        return None
    organization = admin.organization_for_address(user.email)
    if organization is not None:
        admin.record(None, "organisation", "none", f"{organization.name} (verified address on its domain)", user=user)
        user.organization = organization
    return organization


def invite(actor: User, email: str, *, display_name: str = "", role: Role | str = Role.CUSTOMER,
           organization: Organization | None = None) -> User:
    """Add an account for someone else; they choose a password from the emailed link (which also verifies)."""
    user = create_user(email, secrets.token_urlsafe(32), display_name=display_name or None, role=Role(role),
                       organization=organization, verified=False)
    admin.record(actor, "invited", "", f"{user.role.value}, {organization.name if organization else 'no organisation'}",
                 user=user)
    return user
