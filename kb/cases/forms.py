"""Case forms. Every limit comes from the app config so tests and deployments agree."""

from __future__ import annotations

from flask import current_app
from wtforms import (
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, ValidationError

from kb.cases import severity as severity_info
from kb.cases.models import CaseStatus
from kb.forms import BaseForm
from kb.markup import check_field


def _max_length(key: str):
    """A length check whose bound is read from config at validation time."""

    def check(form, field):
        limit = int(current_app.config[key])
        value = field.data or ""
        if len(value) > limit:
            raise ValidationError(f"Must be at most {limit} characters long (you entered {len(value)}).")

    return check


def _not_blank(form, field):
    if not (field.data or "").replace("\x00", "").strip():
        raise ValidationError("This field cannot be empty.")


def severity_choices() -> list[SelectChoice]:
    return [SelectChoice(str(s.number), f"{s.number} – {s.name}: {s.summary}") for s in severity_info.SEVERITIES]


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class CaseForm(BaseForm):
    # data-deflect: the forum composer's script suggests articles and solved threads as these are typed.
    title = StringField("Summary of the problem", validators=[_not_blank, _max_length("CASE_TITLE_MAX_LENGTH")],
                        render_kw={"autocomplete": "off", "data-deflect": ""})
    severity = RadioField("Severity", choices=severity_choices(),
                          validators=[InputRequired("Choose a severity; the questions above can suggest one.")])
    description = TextAreaField("What happens, and what have you tried?",
                                validators=[_not_blank, _max_length("CASE_DESCRIPTION_MAX_LENGTH"), check_field],
                                render_kw={"data-deflect-text": ""})
    business_impact = TextAreaField("Business impact", validators=[_max_length("CASE_FIELD_MAX_LENGTH")])
    environment = TextAreaField("Environment details", validators=[_max_length("CASE_FIELD_MAX_LENGTH")])
    product_version = StringField("Product version", validators=[_max_length("CASE_VERSION_MAX_LENGTH")])
    product_build = StringField("Build number", validators=[_max_length("CASE_VERSION_MAX_LENGTH")])
    thread = HiddenField()
    files = MultipleFileField("Attach files (logs, screenshots)")
    # The severity questionnaire, answered inside the form so a suggestion never loses what was typed.
    production_down = RadioField(severity_info.QUESTIONS[0].text, choices=YES_NO, validate_choice=False)
    degraded = RadioField(severity_info.QUESTIONS[1].text, choices=YES_NO, validate_choice=False)
    workaround = RadioField(severity_info.QUESTIONS[2].text, choices=YES_NO, validate_choice=False)
    question = RadioField(severity_info.QUESTIONS[3].text, choices=YES_NO, validate_choice=False)

    def answers(self) -> dict[str, str]:
        return {q.key: getattr(self, q.key).data or "" for q in severity_info.QUESTIONS}


class CommentForm(BaseForm):
    body = TextAreaField("Your comment", validators=[_not_blank, _max_length("CASE_COMMENT_MAX_LENGTH"), check_field])
    files = MultipleFileField("Attach files (logs, screenshots)")


class StatusForm(BaseForm):
    status = SelectField("Status", choices=[SelectChoice(s.value, s.label) for s in CaseStatus], validators=[DataRequired()])


class SeverityForm(BaseForm):
    severity = SelectField("Severity", choices=[SelectChoice(str(s.number), f"{s.number} – {s.name}")
                                                     for s in severity_info.SEVERITIES],
                           validators=[DataRequired()])
    reason = TextAreaField("Why the severity changes (the customer sees this)",
                           validators=[_max_length("CASE_SEVERITY_REASON_MAX_LENGTH"), check_field])


KEEP = ""  # the composer's "leave as it is" choice


class StaffUpdateForm(BaseForm):
    """The staff composer: a reply to the customer or an internal note, and any changes, in one submit.

    Which of the two the text becomes is decided by the button pressed (``send``), never by a checkbox.
    """

    body = TextAreaField("Message", validators=[_max_length("CASE_COMMENT_MAX_LENGTH"), check_field])
    send = HiddenField()  # filled by the pressed submit button: "reply" or "note"
    status = SelectField("Then set the status", default=KEEP, choices=[SelectChoice(KEEP, "Leave as it is")] + [SelectChoice(s.value, s.label) for s in CaseStatus])
    severity = SelectField("Severity", default=KEEP, choices=[SelectChoice(KEEP, "Leave as it is")] + [
        SelectChoice(str(s.number), f"{s.number} – {s.name}") for s in severity_info.SEVERITIES])
    severity_reason = TextAreaField("Why the severity changes (the customer sees this)",
                                    validators=[_max_length("CASE_SEVERITY_REASON_MAX_LENGTH"), check_field])
    assignee = SelectField("Working on it", choices=[], validate_choice=True)
    files = MultipleFileField("Attach files (on an internal note, only staff see them)")


class AssignForm(BaseForm):
    assignee = SelectField("Working on it", choices=[], validate_choice=True)


class EscalateForm(BaseForm):
    reason = TextAreaField("Why does this case need more attention?",
                           validators=[_not_blank, _max_length("CASE_ESCALATION_REASON_MAX_LENGTH"), check_field])


class LinkThreadForm(BaseForm):
    thread = StringField("Forum thread address or number", validators=[_not_blank, _max_length("CASE_TITLE_MAX_LENGTH")])


class SummaryForm(BaseForm):
    body = TextAreaField("Summary to post in the thread", validators=[_not_blank, _max_length("CASE_COMMENT_MAX_LENGTH"), check_field])


class EmptyForm(BaseForm):
    """Just the CSRF token: buttons that change state (watch, close, reopen, take)."""
