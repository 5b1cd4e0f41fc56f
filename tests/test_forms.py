"""The one base form: every form of every feature cleans text the same way."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField

from kb.forms import BaseForm, cleaner_for, multi_line, single_line


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_site_form_derives_from_the_base_form(app):
    """A form on FlaskForm directly would let NUL and control characters through to the database."""
    site_forms = [cls for cls in _all_subclasses(FlaskForm) if cls.__module__.startswith("kb.")]
    assert len(site_forms) > 20
    strays = [f"{cls.__module__}.{cls.__name__}" for cls in site_forms if not issubclass(cls, BaseForm)]
    assert strays == []


def test_single_line_fields_lose_every_control_character():
    assert single_line("a\x00b\tc\r\nd\x1b[0m\x7f\x85e\u2028f") == "ab c  d[0m e f"


def test_multi_line_fields_keep_tabs_and_line_breaks():
    assert multi_line("line one\r\n\tline\x00 two\x0b\x0c\x1b\x9b") == "line one\r\n\tline two"


def test_which_fields_are_cleaned_and_how():
    assert cleaner_for(StringField) is single_line and cleaner_for(EmailField) is single_line
    assert cleaner_for(HiddenField) is single_line and cleaner_for(TextAreaField) is multi_line
    assert cleaner_for(PasswordField) is None, "a password is checked exactly as typed"


def test_a_field_keeps_its_own_filters_after_the_cleaning(app):
    class Form(BaseForm):
        slug = StringField(filters=[lambda v: (v or "").strip().lower()])

    with app.test_request_context(method="POST", data={"slug": "  Mixed\x00Case "}):
        form = Form(meta={"csrf": False})
        assert form.slug.data == "mixedcase"
