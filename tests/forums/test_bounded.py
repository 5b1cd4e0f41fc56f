"""Bounded work per post: pathological Markdown and slow scanner patterns are refused quickly, text kept."""

from __future__ import annotations

import time

import pytest

from tests.conftest import login
from tests.forums.conftest import age, first_post

BRACKETS = "[" * 19_999  # finding 2: about a minute to render before the check


def test_reply_of_brackets_is_refused_quickly_with_the_text_kept(client, customer, make_thread):
    thread = make_thread(customer)
    login(client, customer)
    started = time.perf_counter()
    response = client.post(f"/threads/{thread.id}/reply", data={"body": BRACKETS})
    assert time.perf_counter() - started < 2  # the whole request, page included
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "unclosed “[”" in page
    assert BRACKETS in page


def test_new_thread_with_deep_nesting_is_a_form_error(client, customer, categories):
    login(client, customer)
    body = "".join("    " * depth + "- a\n" for depth in range(300))  # was a RecursionError, a 500
    response = client.post("/forums/networking/new", data={"title": "Nested lists question", "body": body})
    assert response.status_code == 400 and "levels deep" in response.get_data(as_text=True)


def test_edit_with_brackets_is_refused(client, customer, make_thread):
    post = first_post(make_thread(customer))
    login(client, customer)
    response = client.post(f"/posts/{post.id}/edit", data={"title": "RPO alarm after adding a VM", "body": "[" * 8_000})
    assert response.status_code == 400 and "unclosed “[”" in response.get_data(as_text=True)


@pytest.fixture
def two_posts_a_minute(app_config):
    app_config.update(RATELIMIT_ENABLED=True, FORUMS_POST_RATE_LIMIT="2 per minute")


def test_refused_posts_count_against_the_posting_limit(two_posts_a_minute, client, customer, make_thread):
    age(customer)
    thread = make_thread(customer)
    login(client, customer)
    for _ in range(2):
        assert client.post(f"/threads/{thread.id}/reply", data={"body": BRACKETS}).status_code == 400
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "A fine reply, kept"})
    assert response.status_code == 429 and "A fine reply, kept" in response.get_data(as_text=True)


def test_checking_for_answers_does_not_count(two_posts_a_minute, client, customer, categories):
    age(customer)
    login(client, customer)
    for _ in range(3):
        data = {"title": "Journal keeps growing", "body": "Why?", "action": "check"}
        assert client.post("/forums/networking/new", data=data).status_code == 200
    assert client.post("/forums/networking/new", data={"title": "Journal keeps growing", "body": "Why?"}).status_code == 302


def test_backtracking_pattern_from_config_cannot_hold_an_edit(app, client, customer, make_thread):
    """Finding 3: with (a+)+b a 27-character edit took 11.5 s."""
    app.config.update(FORUMS_SECRET_PATTERNS={"slow": r"(a+)+b"}, FORUMS_SECRET_SCAN_TIMEOUT=0.1)
    post = first_post(make_thread(customer))
    login(client, customer)
    started = time.perf_counter()
    response = client.post(f"/posts/{post.id}/edit", data={"title": "RPO alarm after adding a VM", "body": "a" * 27})
    assert response.status_code == 302 and time.perf_counter() - started < 2


def test_licence_rule_on_20000_characters_is_quick(client, customer, categories):
    login(client, customer)
    started = time.perf_counter()
    response = client.post("/forums/networking/new", data={"title": "Long log excerpt", "body": "1-" * 10_000})
    assert response.status_code == 302 and time.perf_counter() - started < 2
