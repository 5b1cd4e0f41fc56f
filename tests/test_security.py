"""Reading integers and arguments from the query string without letting them break a page."""

from __future__ import annotations

import pytest
from flask import request

from kb.security import DB_INT_MAX, int_arg, query_args


@pytest.mark.parametrize("raw, expected", [
    ("", 1), ("abc", 1), ("3", 3), (" 7 ", 7), ("0", 1), ("-4", 1), (str(2**70), DB_INT_MAX),
    ("-" + "9" * 40, 1), ("9" * 5000, DB_INT_MAX), ("１２", 1), ("1e3", 1), ("0x10", 1),
])
def test_int_arg_clamps_to_the_column_range(app, raw, expected):
    with app.test_request_context(query_string={"page": raw}):
        assert int_arg("page") == expected


def test_int_arg_default_and_bounds(app):
    with app.test_request_context(query_string={"quote": "nope", "n": "50"}):
        assert int_arg("quote", None) is None
        assert int_arg("missing", None) is None
        assert int_arg("n", low=1, high=10) == 10


def test_query_args_drop_url_for_options_and_url_parts(app):
    with app.test_request_context("/categories/heron?_external=1&_method=POST&slug=other&q=x&page=2"):
        assert request.view_args == {"slug": "heron"}
        assert query_args(page=3) == {"q": "x", "page": 3}
