"""Account forms. Every limit comes from the app config so tests and deployments agree."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_login import current_user
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from kb.accounts.admin import normalize_domain
from kb.accounts.models import Organization, Plan, Role
from kb.accounts.users import (
    AccountError,
    check_display_name,
    clean_display_name,
    normalize_email,
    valid_timezone,
)
from kb.forms import BaseForm


def _config_length(min_key: str | None = None, max_key: str | None = None):
    """A Length validator whose bounds are read from config at validation time."""

    def check(form, field):
        value = field.data or ""
        low = current_app.config[min_key] if min_key else -1
        high = current_app.config[max_key] if max_key else -1
        if low >= 0 and len(value) < low:
            raise ValidationError(f"Must be at least {low} characters long.")
        if high >= 0 and len(value) > high:
            raise ValidationError(f"Must be at most {high} characters long (you entered {len(value)}).")

    return check


def _email(form, field):
    try:
        field.data = normalize_email(field.data or "")
    except AccountError as exc:
        raise ValidationError(str(exc)) from None


def _display_name(form, field):
    try:
        check_display_name(field.data or "", getattr(current_user, "is_staff", False),
                           current_app.config["RESERVED_DISPLAY_NAME_WORDS"])
    except AccountError as exc:
        raise ValidationError(str(exc)) from None


def _display_name_field() -> StringField:
    """Registration and the profile page: one display-name field, cleaned and checked the same way."""
    return StringField(
        "Display name",
        filters=[clean_display_name],
        validators=[DataRequired(), _config_length(max_key="DISPLAY_NAME_MAX_LENGTH"), _display_name],
    )


def _timezone(form, field):
    try:
        valid_timezone(field.data or "")
    except AccountError as exc:
        raise ValidationError(str(exc)) from None


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), _config_length(max_key="EMAIL_MAX_LENGTH")])
    password = PasswordField("Password", validators=[DataRequired(), _config_length(max_key="PASSWORD_MAX_LENGTH")])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class RegisterForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), _config_length(max_key="EMAIL_MAX_LENGTH"), _email])
    display_name = _display_name_field()
    password = PasswordField(
        "Password",
        validators=[DataRequired(), _config_length("PASSWORD_MIN_LENGTH", "PASSWORD_MAX_LENGTH")],
    )
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "The passwords do not match.")])
    next = HiddenField()


class ResetRequestForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), _config_length(max_key="EMAIL_MAX_LENGTH")])


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), _config_length("PASSWORD_MIN_LENGTH", "PASSWORD_MAX_LENGTH")],
    )
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "The passwords do not match.")])


class ProfileForm(BaseForm):
    display_name = _display_name_field()
    timezone = StringField(
        "Timezone",
        validators=[DataRequired(), Length(max=64), _timezone],
        render_kw={"list": "timezones", "autocomplete": "off"},
    )


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField(
        "New password",
        validators=[DataRequired(), _config_length("PASSWORD_MIN_LENGTH", "PASSWORD_MAX_LENGTH")],
    )
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "The passwords do not match.")])


class TokenForm(BaseForm):
    name = StringField(
        "Token name", validators=[DataRequired(), _config_length(max_key="API_TOKEN_NAME_MAX_LENGTH")]
    )


class EmptyForm(BaseForm):
    """For buttons that only need a CSRF token (log out, revoke, disable)."""


class InviteForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), _config_length(max_key="EMAIL_MAX_LENGTH"), _email])
    display_name = StringField("Display name (optional)", validators=[_config_length(max_key="DISPLAY_NAME_MAX_LENGTH")])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    organization_id = SelectField("Organisation", coerce=int, choices=[])


class UserAdminForm(BaseForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    organization_id = SelectField("Organisation", coerce=int, choices=[])
    disabled = BooleanField("Disabled (cannot log in or use API tokens)")


class OrganizationForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    plan = SelectField("Plan", choices=[SelectChoice(p.value, p.value.title()) for p in Plan])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64), _timezone])
    holidays = TextAreaField("Holidays (one YYYY-MM-DD date per line)", validators=[Length(max=4000)])
    domains = TextAreaField("Email domains (one per line, e.g. example.com)", validators=[Length(max=4000)])

    @classmethod
    def for_organization(cls, org: Organization) -> "OrganizationForm":
        """The form filled from what is stored (on a POST the submitted values win)."""
        return cls(data={"name": org.name, "plan": org.plan.value, "timezone": org.timezone,
                         "holidays": "\n".join(sorted(org.holidays or [])), "domains": "\n".join(org.domain_names)})

    def holiday_list(self) -> list[str]:
        return sorted({date.fromisoformat(line).isoformat() for line in (self.holidays.data or "").split()})

    def domain_list(self) -> list[str]:
        return (self.domains.data or "").split()

    def validate_holidays(self, field):
        for line in (field.data or "").split():
            try:
                date.fromisoformat(line)
            except ValueError:
                raise ValidationError(f"{line[:40]!r} is not a date in YYYY-MM-DD form.") from None

    def validate_domains(self, field):
        lines = (field.data or "").split()
        limit = current_app.config["ORG_DOMAINS_MAX"]
        if len(lines) > limit:
            raise ValidationError(f"An organisation can list at most {limit} domains (you entered {len(lines)}).")
        for line in lines:
            try:
                normalize_domain(line)
            except AccountError as exc:
                raise ValidationError(str(exc)) from None
