"""The hooks contract: known slots only, each filled and called with its arguments; one order table."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from kb.hooks import (
    ORDER,
    SLOTS,
    THREAD_ASIDE,
    USER_MENU,
    HookError,
    Slot,
    register_nav,
    register_slot,
    register_template_helper,
    render_slot,
)


def test_every_slot_names_the_template_that_renders_it(app):
    root = app.jinja_loader.searchpath[0]
    for slot in SLOTS.values():
        with open(f"{root}/{slot.template}", encoding="utf-8") as fh:
            assert f"slot('{slot.name}'" in fh.read(), slot


def test_an_unknown_slot_fails_a_test_run(app):
    with app.test_request_context("/"), pytest.raises(HookError, match="unknown slot 'article-aside'"):
        render_template_string("{{ slot('article-aside', article=None) }}")


def test_a_slot_called_with_other_arguments_or_filled_by_nobody_fails(app):
    with app.test_request_context("/"):
        with pytest.raises(HookError, match="takes"):
            render_slot(app, THREAD_ASIDE.name)
        app.extensions["kb_hooks"]["slots"].pop(USER_MENU.name)
        with pytest.raises(HookError, match="filled by no feature"):
            render_slot(app, USER_MENU.name)


def test_in_production_a_broken_slot_renders_nothing_instead_of_failing_the_page(app, caplog):
    app.testing = False
    with app.test_request_context("/"):
        assert render_slot(app, "no-such-slot") == ""
    assert "unknown slot" in caplog.text


def test_contributions_must_have_a_place_in_the_order_table(app):
    with pytest.raises(HookError, match="ORDER"):
        register_nav(app, "Elsewhere", "site.elsewhere")
    with pytest.raises(HookError, match="SLOTS"):
        register_slot(app, Slot("made-up", "base.html", (), "nowhere"), lambda: "")
    with pytest.raises(HookError, match="already registered"):
        register_template_helper(app, "thread_url", lambda thread: "")


def test_pages_link_stylesheets_and_nav_in_the_table_order(client):
    html = client.get("/").get_data(as_text=True)
    assert re.findall(r"css/(\w+)\.css", html) == list(ORDER["stylesheets"])
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    assert nav.index("Articles") < nav.index("Community") < nav.index("Support")
