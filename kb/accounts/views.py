"""Register, log in and out, reset a password, the account page and the admin pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import generate_password_hash

from kb.accounts import forms, mail as account_mail, verification
from kb.accounts.limits import login_account_limit
from kb.accounts.models import ApiToken
from kb.accounts.sessions import sign_in_again
from kb.accounts.tokens import (
    create_api_token,
    make_reset_token,
    make_verify_token,
    user_for_invite_token,
    user_for_reset_token,
    user_for_verify_token,
)
from kb.accounts.users import (
    AccountError,
    authenticate,
    create_user,
    timezone_choices,
    user_by_email,
)
from kb.extensions import db, limiter
from kb.security import is_safe_next
from kb.types import utcnow

bp = Blueprint("accounts", __name__)


def _limit(key: str):
    return limiter.limit(lambda: current_app.config[key], methods=["POST"])


def _next_url(candidate: str | None) -> str:
    return candidate if is_safe_next(candidate) else url_for("site.home")


@bp.route("/register", methods=["GET", "POST"])
@_limit("REGISTER_RATE_LIMIT")
def register():
    """Create a customer account and email a link to confirm the address.

    The answer is the same whether or not the address already has an account (its owner gets an
    email instead), so the form cannot be used to find out who has one.
    """
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = forms.RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        existing = user_by_email(form.email.data)
        if existing is not None:
            generate_password_hash(form.password.data)  # the same work as creating an account
            if not existing.disabled:
                account_mail.send_already_registered(existing)
                db.session.commit()
            return _registered(form.email.data)
        try:
            user = create_user(
                form.email.data,
                form.password.data,
                display_name=form.display_name.data,
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
                verified=False,
            )
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.flush()  # the confirmation link names the new user's id
            account_mail.send_verification(user, make_verify_token(user))
            db.session.commit()
            return _registered(user.email)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


def _registered(email: str):
    flash(f"Check your inbox: we sent a message to {email}. Open the link in it to confirm your address "
          "and finish signing up.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def verify_email(token: str):
    """Confirm an address from the emailed link (a button, so mail scanners opening links change nothing)."""
    user = user_for_verify_token(token)
    if user is None:
        flash("That confirmation link is invalid or expired. Sign in and ask for a new one on your account page.",
              "error")
        return redirect(url_for("accounts.login"))
    form = forms.EmptyForm()
    if form.validate_on_submit():
        organization = verification.verify(user)
        db.session.commit()
        login_user(user)
        joined = f" You now have access to {organization.name}'s support cases." if organization else ""
        flash(f"Your address is confirmed.{joined}", "success")
        return redirect(url_for("site.home"))
    return render_template("accounts/verify_email.html", user=user, form=form), (400 if form.is_submitted() else 200)


@bp.post("/account/verify-email")
@login_required
@_limit("RESET_RATE_LIMIT")
def resend_verification():
    """Send the address-confirmation link again."""
    if forms.EmptyForm().validate_on_submit() and not current_user.email_verified:
        account_mail.send_verification(current_user, make_verify_token(current_user))
        db.session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "info")
    return redirect(url_for("accounts.account"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def accept_invite(token: str):
    """Choose a password from an invitation; this also confirms the address."""
    user = user_for_invite_token(token)
    if user is None:
        flash("That invitation link is invalid, already used or expired. Ask your administrator for a new one.", "error")
        return redirect(url_for("accounts.login"))
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        verification.verify(user)
        db.session.commit()
        login_user(user)
        flash("Welcome! Your password is set.", "success")
        return redirect(url_for("site.home"))
    return render_template("accounts/accept_invite.html", form=form, user=user), (400 if form.is_submitted() else 200)


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
