"""What admins change on organisations and users, each change recorded in the audit list.

Plain functions that add to the session; the admin view commits once.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from kb.accounts.models import AdminAuditEntry, Organization, OrganizationDomain, Plan, Role, User
from kb.accounts.users import AccountError, organization_by_name, valid_timezone
from kb.extensions import db

# A host name of dot-separated labels (letters, digits, inner hyphens) with at least one dot.
class DomainTaken(AccountError):
    """The email domain is already listed by another organisation."""


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def normalize_domain(raw: str) -> str:
    """'@Example.COM' -> 'example.com'; AccountError when it is not a domain name."""
    domain = (raw or "").strip().lower().lstrip("@").rstrip(".")
    if not _DOMAIN.match(domain):
        shown = domain if len(domain) <= 60 else domain[:60] + "…"
        raise AccountError(f"{shown!r} is not an email domain such as example.com.")
    return domain


def record(actor: User | None, field: str, old: str, new: str, *, organization: Organization | None = None,
           user: User | None = None) -> AdminAuditEntry:
    """Add one audit entry: who changed which field of which organisation or user, from what to what."""
    entry = AdminAuditEntry(actor=actor, organization=organization, user=user, field=field,
                            old_value=old, new_value=new)
    db.session.add(entry)
    return entry


def audit_entries(*, organization: Organization | None = None, user: User | None = None,
                  limit: int = 200) -> list[AdminAuditEntry]:
    """The newest audit entries about one organisation, one user, or (neither given) everything."""
    query = select(AdminAuditEntry).order_by(AdminAuditEntry.created_at.desc(), AdminAuditEntry.id.desc())
    if organization is not None:
        query = query.where(AdminAuditEntry.organization_id == organization.id)
    if user is not None:
        query = query.where(AdminAuditEntry.user_id == user.id)
    return list(db.session.scalars(query.limit(limit)))


def _lines(values) -> str:
    return ", ".join(values) or "none"


def update_organization(org: Organization, actor: User, *, name: str, plan: Plan | str, timezone: str,
                        holidays: list[str], domains: list[str]) -> list[AdminAuditEntry]:
    """Apply the admin form to an organisation; only real changes are applied and audited."""
    name = name.strip()
    other = organization_by_name(name)
    if other is not None and other.id != org.id:
        raise AccountError("Another organisation already has that name.")
    plan = Plan(plan)
    valid_timezone(timezone)
    holidays = sorted(set(holidays))
    domains = sorted({normalize_domain(d) for d in domains})
    taken = db.session.scalars(
        select(OrganizationDomain).where(OrganizationDomain.domain.in_(domains),
                                         OrganizationDomain.organization_id != org.id)
    ).all()
    if taken:
        raise DomainTaken(f"{taken[0].domain} already belongs to {taken[0].organization.name}.")
    changes = []
    if name != org.name:
        changes.append(record(actor, "name", org.name, name, organization=org))
        org.name = name
    if plan is not org.plan:
        changes.append(record(actor, "plan", org.plan.value, plan.value, organization=org))
        org.plan = plan
    if timezone != org.timezone:
        changes.append(record(actor, "timezone", org.timezone, timezone, organization=org))
        org.timezone = timezone
    if holidays != sorted(org.holidays or []):
        changes.append(record(actor, "holidays", _lines(sorted(org.holidays or [])), _lines(holidays),
                              organization=org))
        org.holidays = holidays
    if domains != org.domain_names:
        changes.append(record(actor, "domains", _lines(org.domain_names), _lines(domains), organization=org))
        kept = {d.domain: d for d in org.domains}
        org.domains = [kept.get(d) or OrganizationDomain(domain=d) for d in domains]
    return changes


def update_user(user: User, actor: User, *, role: Role | str, organization: Organization | None,
                disabled: bool) -> list[AdminAuditEntry]:
    """Change a user's role, organisation or disabled state; admins cannot lock themselves out."""
    role = Role(role)
    if user.id == actor.id and (disabled or role is not Role.ADMIN):
        raise AccountError("You cannot disable yourself or remove your own admin role.")
    changes = []
    if role is not user.role:
        changes.append(record(actor, "role", user.role.value, role.value, user=user))
        user.role = role
    if (organization.id if organization else None) != user.organization_id:
        changes.append(record(actor, "organisation", user.organization.name if user.organization else "none",
                              organization.name if organization else "none", user=user))
        user.organization = organization
    if disabled != user.disabled:
        changes.append(record(actor, "disabled", "yes" if user.disabled else "no", "yes" if disabled else "no",
                              user=user))
        user.disabled = disabled
    return changes


def organization_for_address(email: str) -> Organization | None:
    """The organisation whose listed domain this address is on, if any."""
    domain = email.rpartition("@")[2].lower()
    row = db.session.scalar(select(OrganizationDomain).where(OrganizationDomain.domain == domain))
    return row.organization if row is not None else None
