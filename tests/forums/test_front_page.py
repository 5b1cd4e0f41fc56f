"""The forum front page: Latest and Unanswered across categories, the Ask button, the category-choosing composer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import Post, Thread
from kb.hooks import init_steps
from tests.conftest import login
from tests.forums.conftest import age, first_post


def _section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by ``heading_id``."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.DOTALL)
    assert match, heading_id
    return match.group(0)


@pytest.fixture
def spread(customer, staff, make_thread, make_reply):
    """Threads in a public, a signed-in-only and a staff-only category; one public question is answered."""
    age(customer)
    return {
        "answered": make_reply(make_thread(customer, title="Answered journal question"), staff).thread,
        "open": make_thread(customer, slug="failover", title="Open failover question"),
        "lounge": make_thread(customer, slug="customer-lounge", title="Lounge only question"),
        "staff": make_thread(staff, slug="staff-room", title="Staff room only question"),
    }


def test_latest_spans_the_categories_the_visitor_may_read(app, client, customer, staff, spread):
    latest = _section(client.get("/forums/").get_data(as_text=True), "latest-heading")
    assert "Open failover question" in latest and "Answered journal question" in latest
    assert "Lounge only" not in latest and "Staff room only" not in latest

    login(client, customer)
    latest = _section(client.get("/forums/").get_data(as_text=True), "latest-heading")
    assert "Lounge only question" in latest and "Staff room only" not in latest
    # newest activity first, each with its category
    assert latest.index("Lounge only question") < latest.index("Open failover question")
    assert 'href="/forums/customer-lounge/"' in latest

    staff_client = app.test_client()
    login(staff_client, staff)
    assert "Staff room only question" in _section(staff_client.get("/forums/").get_data(as_text=True), "latest-heading")


def test_unanswered_means_no_reply_yet_and_leaks_nothing(client, customer, staff, spread, make_thread):
    make_thread(staff, slug="announcements", title="Release 8.1 is out")
    unanswered = _section(client.get("/forums/").get_data(as_text=True), "unanswered-heading")
    assert "Open failover question" in unanswered
    assert "Answered journal question" not in unanswered  # it has a reply, though none is accepted
    assert "Release 8.1" not in unanswered  # announcements are not questions
    assert "Lounge only" not in unanswered and "Staff room only" not in unanswered

    login(client, customer)
    unanswered = _section(client.get("/forums/").get_data(as_text=True), "unanswered-heading")
    assert "Lounge only question" in unanswered and "Staff room only" not in unanswered


def test_a_removed_question_leaves_unanswered_even_for_staff(client, staff, spread):
    threads.delete_post(first_post(spread["open"]), staff)
    db.session.commit()
    login(client, staff)
    assert "Open failover question" not in _section(client.get("/forums/").get_data(as_text=True), "unanswered-heading")


def test_home_community_section_has_latest_and_unanswered_without_private_threads(client, customer, spread):
    home = client.get("/").get_data(as_text=True)
    assert "home-latest-heading" in home and "home-unanswered-heading" in home
    assert "Open failover question" in home
    assert "Lounge only" not in home and "Staff room only" not in home
    assert 'href="/forums/new"' in home


def test_front_page_settings_bound_the_lists(app, client, spread):
    app.config.update(FORUMS_LATEST_THREADS=1, FORUMS_UNANSWERED_THREADS=1)
    page = client.get("/forums/").get_data(as_text=True)
    assert _section(page, "latest-heading").count('class="thread-row"') == 1
    assert _section(page, "unanswered-heading").count('class="thread-row"') == 1


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_staff_only_categories_do_not_invite_others_to_ask(client, customer, staff, make_thread, who):
    announcement = make_thread(staff, slug="announcements", title="Release 8.1 is out")
    if who == "customer":
        login(client, customer)
    page = client.get("/forums/announcements/").get_data(as_text=True)
    main = page[page.index("<main"):]
    assert "Ask a question" not in main and "ask a question" not in main.lower()
    assert "/forums/announcements/new" not in page
    thread_page = client.get(f"/threads/{announcement.id}").get_data(as_text=True)
    assert "ask-button" not in thread_page


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_every_forum_page_of_an_open_category_has_the_ask_button(client, customer, spread, who):
    if who == "customer":
        login(client, customer)
    assert 'href="/forums/new"' in client.get("/forums/").get_data(as_text=True)
    thread_page = client.get(f"/threads/{spread['open'].id}").get_data(as_text=True)
    assert 'href="/forums/new?category=failover"' in thread_page
    category_page = client.get("/forums/failover/").get_data(as_text=True)
    assert "ask a question" in category_page.lower()


def _options(html: str) -> list[str]:
    select_html = re.search(r'<select[^>]*name="category".*?</select>', html, re.DOTALL).group(0)
    return [value for value in re.findall(r'<option[^>]*value="([^"]*)"', select_html) if value]


def test_composer_lists_only_categories_the_asker_may_post_in(app, client, customer, staff, categories):
    login(client, customer)
    options = _options(client.get("/forums/new").get_data(as_text=True))
    assert "failover" in options and "customer-lounge" in options
    assert "announcements" not in options and "staff-room" not in options

    staff_client = app.test_client()
    login(staff_client, staff)
    options = _options(staff_client.get("/forums/new").get_data(as_text=True))
    assert "announcements" in options and "staff-room" in options


def test_composer_preselects_the_category_it_was_opened_from(client, customer, categories):
    login(client, customer)
    page = client.get("/forums/new?category=networking").get_data(as_text=True)
    assert re.search(r'<option selected value="networking"|<option value="networking" selected', page)
    refused = client.get("/forums/new?category=staff-room").get_data(as_text=True)
    assert '<option selected value="">Choose a category' in refused and 'value="staff-room"' not in refused


def test_asking_posts_in_the_chosen_category(client, customer, categories):
    age(customer)
    login(client, customer)
    response = client.post("/forums/new", data={"category": "networking", "title": "Which ports does pairing use?",
                                                 "body": "Firewall question.", "action": "post"})
    assert response.status_code == 302
    thread = db.session.scalar(select(Thread).where(Thread.title == "Which ports does pairing use?"))
    assert thread.category.slug == "networking"
    assert response.headers["Location"].endswith(f"/threads/{thread.id}-which-ports-does-pairing-use")


@pytest.mark.parametrize("category", ["", "announcements", "staff-room", "nope"])
def test_a_category_the_asker_may_not_post_in_is_refused_and_the_text_kept(client, customer, categories, category):
    age(customer)
    login(client, customer)
    response = client.post("/forums/new", data={"category": category, "title": "A question for the wrong place",
                                                 "body": "Kept text here.", "action": "post"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Kept text here." in page and "A question for the wrong place" in page
    assert db.session.scalar(select(Thread).where(Thread.title == "A question for the wrong place")) is None


def test_signed_out_composer_sends_to_sign_in(client, categories):
    response = client.get("/forums/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_kb_init_renders_old_posts_again(app, customer, make_thread):
    thread = make_thread(customer, body="Checklist:\n- [x] logs sent")
    post = first_post(thread)
    post.body_html, post.render_version = "<p>Checklist:\n- [x] logs sent</p>", 0
    db.session.commit()
    summary = dict(init_steps(app))["Re-rendering forum posts"]()
    assert "1 forum posts re-rendered" in summary
    post = db.session.get(Post, post.id)
    assert '<input type="checkbox" disabled checked>' in post.body_html
    assert dict(init_steps(app))["Re-rendering forum posts"]() == "Forum posts are up to date."
