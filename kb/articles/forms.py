"""Forms for writing articles, reviewing them and telling us whether one helped."""

from __future__ import annotations

from flask import current_app
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from kb.articles import editing
from kb.articles.models import ArticleType
from kb.forms import BaseForm
from kb.images.forms import image_field
from kb.markup import check_field


class ConfigLength:
    """Length limit read from the app config at validation time, so KB_* overrides apply."""

    def __init__(self, key: str, what: str):
        self.key = key
        self.what = what

    def __call__(self, form, field) -> None:
        limit = current_app.config[self.key]
        if field.data and len(field.data) > limit:
            raise ValidationError(f"{self.what} can be at most {limit} characters (it is {len(field.data)}).")


class ArticleForm(BaseForm):
    title = StringField("Title", validators=[DataRequired("Give the article a title."),
                                             ConfigLength("ARTICLE_TITLE_MAX_LENGTH", "The title")])
    slug = StringField("Address (slug)", validators=[Optional()], filters=[lambda v: (v or "").strip().lower()])
    summary = TextAreaField("Summary", validators=[ConfigLength("ARTICLE_SUMMARY_MAX_LENGTH", "The summary")],
                            render_kw={"rows": 2})
    type = SelectField("Type", choices=[SelectChoice(t.value, t.label) for t in ArticleType])
    category = SelectField("Category", coerce=int, choices=[SelectChoice(0, "No category")])
    tags = StringField("Tags")
    versions = StringField("Applies to versions")
    body = TextAreaField("Body (Markdown)", validators=[DataRequired("Write the article's body."),
                                                       ConfigLength("ARTICLE_BODY_MAX_LENGTH", "The body"), check_field],
                         render_kw={"rows": 24, "data-preview-source": ""})
    image = image_field()
    message = StringField("Change note", validators=[ConfigLength("ARTICLE_REVISION_MESSAGE_MAX_LENGTH", "The change note")])
    base_revision = HiddenField()

    def validate_slug(self, field) -> None:
        if field.data and not editing.valid_slug(field.data):
            raise ValidationError("Use lowercase letters, digits and single hyphens, e.g. rpo-exceeded-alarm "
                                  "(“new” and “preview” are taken).")

    def validate_tags(self, field) -> None:
        try:
            editing.validate_tags(editing.normalize_tags(field.data or ""), current_app.config["ARTICLE_TAGS_MAX"],
                                  current_app.config["ARTICLE_TAG_MAX_LENGTH"])
        except editing.EditError as exc:
            raise ValidationError(str(exc)) from None

    def validate_versions(self, field) -> None:
        try:
            editing.validate_versions(editing.normalize_versions(field.data or ""))
        except editing.EditError as exc:
            raise ValidationError(str(exc)) from None


class FeedbackForm(BaseForm):
    helpful = RadioField("Was this article helpful?", choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                         validators=[DataRequired("Choose yes or no.")])
    comment = TextAreaField("What could we improve? (optional)",
                            validators=[ConfigLength("FEEDBACK_COMMENT_MAX_LENGTH", "Your comment")],
                            render_kw={"rows": 3})


class ReviewForm(BaseForm):
    verified_version = SelectField("Verified for version")


class ActionForm(BaseForm):
    """A button that changes state: only the CSRF token."""


def review_form() -> ReviewForm:
    """The review form, offering the product versions, newest first, the current one chosen."""
    form = ReviewForm()
    versions = list(current_app.config["PRODUCT_VERSIONS"])
    form.verified_version.choices = [SelectChoice(v, v) for v in reversed(versions)]
    if not form.is_submitted():
        form.verified_version.data = current_app.config["CURRENT_PRODUCT_VERSION"]
    return form
