"""Forum forms; every length limit is read from the app config when the form is validated."""

from __future__ import annotations

from flask import current_app
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from kb.forms import BaseForm
from kb.forums.models import FLAG_REASONS, Access
from kb.images.forms import image_field
from kb.markup import check_field
from kb.security import DB_INT_MAX


def config_length(min_key: str | None = None, max_key: str | None = None, what: str = "This"):
    def check(form, field):
        value = (field.data or "").strip()
        low = current_app.config[min_key] if min_key else 0
        high = current_app.config[max_key] if max_key else None
        if len(value) < low:
            raise ValidationError(f"{what} needs at least {low} characters.")
        if high is not None and len(value) > high:
            raise ValidationError(
                f"{what} is too long: {len(value):,} characters, and the limit is {high:,}. "
                "Shorten it, or attach long logs to a support case instead."
            )

    return check


class ThreadForm(BaseForm):
    title = StringField(
        "Title",
        validators=[DataRequired("Give your question a title."), config_length("FORUMS_TITLE_MIN_LENGTH", "FORUMS_TITLE_MAX_LENGTH", "The title")],
        render_kw={"autocomplete": "off", "data-deflect": ""},
    )
    body = TextAreaField(
        "Your question",
        validators=[DataRequired("Describe your question."), config_length("FORUMS_POST_MIN_LENGTH", "FORUMS_POST_MAX_LENGTH", "Your post"), check_field],
        render_kw={"rows": 12},
    )
    image = image_field()
    tags = StringField("Tags (optional)", validators=[config_length(None, "FORUMS_TAGS_FIELD_MAX_LENGTH", "The tags field")])
    confirm_no_secrets = BooleanField("I checked: what the scanner found is not a real secret, post it anyway")


class AskForm(ThreadForm):
    """The composer opened outside a category: the asker picks one (choices: where they may post)."""

    category = SelectField("Category", choices=[], validate_choice=True,
                           validators=[InputRequired("Choose the category your question belongs in.")])


class ReplyForm(BaseForm):
    body = TextAreaField(
        "Your reply",
        validators=[DataRequired("Write your reply first."), config_length("FORUMS_POST_MIN_LENGTH", "FORUMS_POST_MAX_LENGTH", "Your reply"), check_field],
        render_kw={"rows": 8},
    )
    image = image_field()
    confirm_no_secrets = BooleanField("I checked: what the scanner found is not a real secret, post it anyway")


class EditForm(BaseForm):
    title = StringField("Title", validators=[config_length("FORUMS_TITLE_MIN_LENGTH", "FORUMS_TITLE_MAX_LENGTH", "The title")])
    body = TextAreaField(
        "Text",
        validators=[DataRequired("The post cannot be empty; delete it instead."), config_length("FORUMS_POST_MIN_LENGTH", "FORUMS_POST_MAX_LENGTH", "Your post"), check_field],
        render_kw={"rows": 12},
    )
    image = image_field()
    tags = StringField("Tags (optional)", validators=[config_length(None, "FORUMS_TAGS_FIELD_MAX_LENGTH", "The tags field")])
    confirm_no_secrets = BooleanField("I checked: what the scanner found is not a real secret, save it anyway")


class FlagForm(BaseForm):
    # No reason is preselected: a flag someone did not think about is noise for the moderators.
    reason = SelectField("Why should a moderator look at this post?",
                         choices=[SelectChoice("", "Choose a reason…")] + [SelectChoice(k, v) for k, v in FLAG_REASONS.items()],
                         validators=[InputRequired("Choose why a moderator should look at this post.")])
    note = TextAreaField("Anything else a moderator should know (optional)",
                         validators=[config_length(None, "FORUMS_FLAG_NOTE_MAX_LENGTH", "The note")],
                         render_kw={"rows": 3})


class MoveForm(BaseForm):
    category_id = SelectField("Move to category", coerce=int, choices=[])


_ACCESS_CHOICES = [SelectChoice(access, access.label) for access in Access]


class CategoryForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    slug = StringField("Slug (used in the address)", validators=[DataRequired(), Length(max=80)])
    description = TextAreaField("Description", validators=[Length(max=1000)], render_kw={"rows": 3})
    position = IntegerField(
        "Position (lower comes first)", default=100,
        validators=[InputRequired("Give a position, a whole number."),
                    NumberRange(0, DB_INT_MAX, f"The position must be a whole number from 0 to {DB_INT_MAX:,}.")],
    )
    read_access = SelectField("Who can read", coerce=Access, choices=_ACCESS_CHOICES)
    post_access = SelectField("Who can start threads", coerce=Access, choices=_ACCESS_CHOICES[1:])


class SecretPatternForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    pattern = StringField("Regular expression (Python syntax)", validators=[DataRequired(), Length(max=500)])
