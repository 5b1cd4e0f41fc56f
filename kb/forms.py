"""The base of every form on the site: text arrives without control characters, whatever the field.

NUL and the other C0/C1 control characters are never meaningful in what people type, PostgreSQL
refuses NUL in text columns, and invisible characters in a title or name only serve to deceive. So
every text field of every form is cleaned once, here, before its own filters and validators run:
single-line fields lose all control characters (a tab or line break becomes a space), multi-line
fields keep tab, line feed and carriage return. Passwords are left exactly as typed.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines() breaks at, and tab
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def single_line(value):
    """One line of text: line breaks and tabs become spaces, other control characters go."""
    if not isinstance(value, str):
        return value
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", value))


def multi_line(value):
    """Several lines of text: tab, LF and CR stay, every other control character goes."""
    return _CONTROLS.sub("", value) if isinstance(value, str) else value


def cleaner_for(field_class: type) -> object | None:
    if not issubclass(field_class, StringField) or issubclass(field_class, PasswordField):
        return None
    return multi_line if issubclass(field_class, TextAreaField) else single_line


class BaseForm(FlaskForm):
    """What every feature's forms derive from (a test checks that they all do)."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            cleaner = cleaner_for(unbound_field.field_class)
            if cleaner is not None:
                options = dict(options, filters=(cleaner, *unbound_field.kwargs.get("filters", ())))
            return super().bind_field(form, unbound_field, options)
