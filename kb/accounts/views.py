"""Register, log in and out, reset a password, the account page and the admin pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from kb.accounts import forms, mail as account_mail
from kb.accounts.models import ApiToken, Organization, Role, User
from kb.accounts.limits import login_account_limit
from kb.accounts.permissions import admin_required
from kb.accounts.sessions import sign_in_again
from kb.accounts.tokens import create_api_token, make_reset_token, user_for_reset_token
from kb.accounts.users import (
    AccountError,
    authenticate,
    create_organization,
    create_user,
    timezone_choices,
    user_by_email,
)
from kb.extensions import db, limiter
from kb.security import int_arg, is_safe_next
from kb.types import utcnow

bp = Blueprint("accounts", __name__)


def _limit(key: str):
    return limiter.limit(lambda: current_app.config[key], methods=["POST"])


def _next_url(candidate: str | None) -> str:
    return candidate if is_safe_next(candidate) else url_for("site.home")


@bp.route("/register", methods=["GET", "POST"])
@_limit("REGISTER_RATE_LIMIT")
def register():
    """Create a customer account and sign it in."""
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = forms.RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = create_user(
                form.email.data,
                form.password.data,
                display_name=form.display_name.data,
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(_next_url(form.next.data))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@_limit("LOGIN_RATE_LIMIT")
@login_account_limit
def login():
    """Sign in with email and password; return to a same-site ``next`` page."""
    if current_user.is_authenticated:
        return redirect(_next_url(request.args.get("next")))
    form = forms.LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match an account.")
        elif user.disabled:
            form.email.errors.append("This account has been disabled. Contact your administrator.")
        else:
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_next_url(form.next.data))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out on every device (a POST, so no other site can sign a user out with a link)."""
    if forms.EmptyForm().validate_on_submit():
        _sign_out_everywhere()
        flash("You are signed out.", "info")
    return redirect(url_for("site.home"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session and remembered login of this account, in every browser, this one included."""
    if not forms.EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("accounts.account"))
    _sign_out_everywhere()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("accounts.login"))


def _sign_out_everywhere() -> None:
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()


@bp.route("/reset-password", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def reset_request():
    """Email a reset link; the answer is the same whether or not the address has an account."""
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        user = user_by_email(form.email.data)
        if user is not None and not user.disabled:
            account_mail.send_reset_link(user, make_reset_token(user))
            db.session.commit()
        flash("If an account uses that address, a reset link is on its way. It works for one hour.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def reset_password(token: str):
    """Choose a new password with a token from the reset email."""
    user = user_for_reset_token(token)
    if user is None:
        flash("That reset link is invalid, already used or expired. Ask for a new one.", "error")
        return redirect(url_for("accounts.reset_request"))
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)  # ends every session of the account
        db.session.commit()
        logout_user()
        flash("Your password has been changed. Sign in with the new one.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Profile, password and personal API tokens."""
    profile = forms.ProfileForm(obj=current_user, prefix="profile")
    password = forms.ChangePasswordForm(prefix="password")
    token_form = forms.TokenForm(prefix="token")
    new_token = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        if action == "profile" and profile.validate_on_submit():
            current_user.display_name = profile.display_name.data.strip()
            current_user.timezone = profile.timezone.data
            db.session.commit()
            flash("Your profile has been saved.", "success")
            return redirect(url_for("accounts.account"))
        if action == "password" and password.validate_on_submit():
            if not current_user.check_password(password.current_password.data):
                password.current_password.errors.append("That is not your current password.")
            else:
                current_user.set_password(password.password.data)  # ends every session of the account
                db.session.commit()
                sign_in_again(current_user._get_current_object())
                flash("Your password has been changed; every other device has been signed out.", "success")
                return redirect(url_for("accounts.account"))
        if action == "token" and token_form.validate_on_submit():
            if len(current_user.api_tokens) >= current_app.config["API_TOKENS_PER_USER"]:
                token_form.name.errors.append(
                    f"You already have {len(current_user.api_tokens)} tokens; revoke one first."
                )
            else:
                _, new_token = create_api_token(current_user, token_form.name.data.strip())
                db.session.commit()
                token_form.name.data = ""
        if new_token is None:
            status = 400
    return (
        render_template(
            "accounts/account.html",
            profile=profile,
            password=password,
            token_form=token_form,
            new_token=new_token,
            timezones=timezone_choices(),
            revoke_form=forms.EmptyForm(),
        ),
        status,
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of your own API tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if forms.EmptyForm().validate_on_submit():
        db.session.delete(token)
        db.session.commit()
        flash(f"Token “{token.name}” has been revoked.", "success")
    return redirect(url_for("accounts.account"))


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
    """Change a user's role, organisation or disabled state."""
    user = db.get_or_404(User, user_id)
    form = forms.UserAdminForm(obj=user, role=user.role.value, organization_id=user.organization_id or 0)
    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    form.organization_id.choices = [SelectChoice(0, "— none —")] + [SelectChoice(o.id, o.name) for o in orgs]
    if form.validate_on_submit():
        if user.id == current_user.id and (form.disabled.data or form.role.data != Role.ADMIN.value):
            flash("You cannot disable yourself or remove your own admin role.", "error")
        else:
            user.role = Role(form.role.data)
            user.organization_id = form.organization_id.data or None
            user.disabled = form.disabled.data
            db.session.commit()
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("accounts.admin_users"))
    return render_template("accounts/admin_user.html", user=user, form=form), (400 if form.is_submitted() else 200)


@bp.route("/admin/organizations", methods=["GET", "POST"])
@admin_required
def admin_organizations():
    """List organisations and add a new one."""
    form = forms.OrganizationForm()
    if form.validate_on_submit():
        try:
            org = create_organization(form.name.data, form.plan.data, form.timezone.data)
            org.holidays = sorted(set((form.holidays.data or "").split()))
        except AccountError as exc:
            form.name.errors.append(str(exc))
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
    """Change an organisation's plan, timezone and holidays."""
    org = db.get_or_404(Organization, org_id)
    form = forms.OrganizationForm(obj=org, plan=org.plan.value, holidays="\n".join(org.holidays or []))
    if form.validate_on_submit():
        other = db.session.scalar(
            select(Organization).where(func.lower(Organization.name) == form.name.data.strip().lower())
        )
        if other is not None and other.id != org.id:
            form.name.errors.append("Another organisation already has that name.")
        else:
            org.name = form.name.data.strip()
            org.plan = form.plan.data
            org.timezone = form.timezone.data
            org.holidays = sorted(set((form.holidays.data or "").split()))
            db.session.commit()
            flash(f"Saved {org.name}.", "success")
            return redirect(url_for("accounts.admin_organizations"))
    return (
        render_template("accounts/admin_organization.html", org=org, form=form, timezones=timezone_choices()),
        400 if form.is_submitted() else 200,
    )
