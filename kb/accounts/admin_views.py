"""Admin pages: users (invite, role, organisation, disable), organisations, and the audit list."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from kb.accounts import admin, forms, verification
from kb.accounts import mail as account_mail
from kb.accounts.models import Organization, Role, User
from kb.accounts.permissions import admin_required
from kb.accounts.tokens import make_invite_token
from kb.accounts.users import AccountError, create_organization, timezone_choices
from kb.accounts.views import bp
from kb.extensions import db
from kb.security import int_arg


def _organization_choices() -> list[SelectChoice]:
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return [SelectChoice(0, "— none —")] + [SelectChoice(o.id, o.name) for o in orgs]


@bp.route("/admin/users")
@admin_required
def admin_users():
    """All users, filterable by role and searchable by email or name."""
    query = select(User).order_by(User.email)
    text = request.args.get("q", "").strip()[:200]
    if text:
        like = f"%{text.lower()}%"
        query = query.where(func.lower(User.email).like(like) | func.lower(User.display_name).like(like))
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    page = db.paginate(query, page=int_arg("page"), per_page=50, error_out=False)
    return render_template("accounts/admin_users.html", page=page, q=text, role=role, roles=list(Role))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def admin_user(user_id: int):
    """Change a user's role, organisation or disabled state; every change goes to the audit list."""
    user = db.get_or_404(User, user_id)
    form = forms.UserAdminForm(data={"role": user.role.value, "organization_id": user.organization_id or 0,
                                     "disabled": user.disabled})
    form.organization_id.choices = _organization_choices()
    if form.validate_on_submit():
        organization = db.session.get(Organization, form.organization_id.data) if form.organization_id.data else None
        try:
            changes = admin.update_user(user, current_user, role=form.role.data, organization=organization,
                                        disabled=form.disabled.data)
        except AccountError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"Saved {user.email}." if changes else f"Nothing changed for {user.email}.", "success")
            return redirect(url_for("accounts.admin_users"))
    return render_template("accounts/admin_user.html", user=user, form=form,
                           audit=admin.audit_entries(user=user)), (400 if form.is_submitted() else 200)


@bp.route("/admin/organizations", methods=["GET", "POST"])
@admin_required
def admin_organizations():
    """List organisations and add a new one."""
    form = forms.OrganizationForm()
    if form.validate_on_submit():
        try:
            org = create_organization(form.name.data, form.plan.data, form.timezone.data)
            db.session.flush()
            admin.update_organization(org, current_user, name=org.name, plan=org.plan, timezone=org.timezone,
                                      holidays=form.holiday_list(), domains=form.domain_list())
        except AccountError as exc:
            form.name.errors.append(str(exc))
            db.session.rollback()
        else:
            db.session.commit()
            flash(f"Organisation {org.name} created.", "success")
            return redirect(url_for("accounts.admin_organizations"))
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return (
        render_template("accounts/admin_organizations.html", orgs=orgs, form=form, timezones=timezone_choices()),
        400 if form.is_submitted() else 200,
    )


@bp.route("/admin/organizations/<int:org_id>", methods=["GET", "POST"])
@admin_required
def admin_organization(org_id: int):
    """An organisation: its plan, timezone, holidays and domains (as stored), members, open cases, changes."""
    org = db.get_or_404(Organization, org_id)
    form = forms.OrganizationForm.for_organization(org)
    if form.validate_on_submit():
        try:
            changes = admin.update_organization(org, current_user, name=form.name.data, plan=form.plan.data,
                                                timezone=form.timezone.data, holidays=form.holiday_list(),
                                                domains=form.domain_list())
        except AccountError as exc:
            (form.domains if isinstance(exc, admin.DomainTaken) else form.name).errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Saved {org.name}: changed {', '.join(c.field for c in changes)}." if changes
                  else f"Nothing changed for {org.name}.", "success")
            return redirect(url_for("accounts.admin_organization", org_id=org.id))
    return (
        render_template("accounts/admin_organization.html", org=org, form=form, timezones=timezone_choices(),
                        audit=admin.audit_entries(organization=org)),
        400 if form.is_submitted() else 200,
    )


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@admin_required
def admin_invite():
    """Invite someone by email with a role and organisation; they set a password from a signed, expiring link."""
    form = forms.InviteForm()
    form.organization_id.choices = _organization_choices()
    if form.validate_on_submit():
        organization = db.session.get(Organization, form.organization_id.data) if form.organization_id.data else None
        try:
            user = verification.invite(current_user, form.email.data, display_name=(form.display_name.data or "").strip(),
                                       role=form.role.data, organization=organization)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.flush()  # the invitation link names the new user's id
            account_mail.send_invitation(user, make_invite_token(user), current_user)
            db.session.commit()
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("accounts.admin_user", user_id=user.id))
    return render_template("accounts/admin_invite.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/admin/audit")
@admin_required
def admin_audit():
    """Every recorded change to roles, organisations, disabled states and organisation settings, newest first."""
    return render_template("accounts/admin_audit.html", audit=admin.audit_entries(limit=500))
