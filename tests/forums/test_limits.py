"""Every forum limit is a config key: each one changes behaviour when set."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums import notifications, threads
from kb.forums.models import Draft, Flag, Subscription
from kb.types import utcnow
from tests.conftest import login
from tests.forums.conftest import first_post


def test_category_and_thread_pagination(app, client, customer, staff, make_thread, make_reply):
    app.config.update(FORUMS_THREADS_PER_PAGE=2, FORUMS_POSTS_PER_PAGE=2)
    made = [make_thread(customer, title=f"Pagination thread number {n}") for n in range(3)]
    page_one = client.get("/forums/replication/").get_data(as_text=True)
    assert "Page 1 of 2" in page_one and "number 2" in page_one and "number 0" not in page_one
    assert "number 0" in client.get("/forums/replication/?page=2").get_data(as_text=True)
    assert client.get("/forums/replication/?page=99").status_code == 200
    for n in range(3):
        make_reply(made[0], staff, f"Reply body {n}")
    page = client.get(f"/threads/{made[0].id}").get_data(as_text=True)
    assert "Reply body 1" in page and "Reply body 2" not in page and "Page 1 of 2" in page
    last = db.session.scalars(select(threads.Post).where(threads.Post.body == "Reply body 2")).one()
    assert client.get(f"/posts/{last.id}").headers["Location"].endswith(f"page=2#post-{last.id}")


def test_mine_filter_and_latest_activity_order(client, customer, other_customer, make_thread, make_reply):
    mine = make_thread(customer, title="A thread I started myself")
    theirs = make_thread(other_customer, title="Somebody else's thread")
    replied = make_thread(other_customer, title="A thread I replied to")
    make_reply(replied, customer)
    login(client, customer)
    page = client.get("/forums/replication/?filter=mine").get_data(as_text=True)
    assert mine.title in page and replied.title in page and theirs.title not in page
    everything = client.get("/forums/replication/").get_data(as_text=True)
    assert everything.index(replied.title) < everything.index("Somebody else") < everything.index(mine.title)


def test_tag_limits(app, client, customer, categories):
    app.config.update(FORUMS_TAGS_MAX=2, FORUMS_TAG_MAX_LENGTH=5)
    login(client, customer)
    assert client.post("/forums/upgrades/new", data={"title": "Tags galore here", "body": "Which order?", "tags": "a, b, c"}).status_code == 400
    response = client.post("/forums/upgrades/new", data={"title": "Tags galore here", "body": "Which order?", "tags": "toolong"})
    assert response.status_code == 400 and "at most 5 characters" in response.get_data(as_text=True)
    assert client.post("/forums/upgrades/new", data={"title": "Tags galore here", "body": "Which order?", "tags": "#8.0 Upgrade"}).status_code == 400
    assert client.post("/forums/upgrades/new", data={"title": "Tags galore here", "body": "Which order?", "tags": "#8.0, vra"}).status_code == 302


def test_flag_note_limit(app, client, customer, make_thread):
    app.config["FORUMS_FLAG_NOTE_MAX_LENGTH"] = 10
    post = first_post(make_thread(customer))
    login(client, customer)
    response = client.post(f"/posts/{post.id}/flag", data={"reason": "other", "note": "x" * 11})
    assert response.status_code == 400 and "x" * 11 in response.get_data(as_text=True)
    assert db.session.scalar(select(Flag)) is None


def test_case_draft_is_cut_to_the_configured_length(app, client, customer, categories):
    app.config["FORUMS_CASE_DRAFT_MAX_LENGTH"] = 50
    login(client, customer)
    client.post("/forums/failover/new", data={"title": "Live failover failed", "body": "y" * 400, "action": "case"})
    with client.session_transaction() as session:
        assert session["case_draft"]["description"].startswith("y" * 50 + "\n\n[…shortened")


def test_old_drafts_are_purged(app, client, customer, categories):
    app.config["FORUMS_DRAFT_MAX_AGE"] = 60
    db.session.add(Draft(token="old", path="/x", data={}, created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    client.post("/forums/networking/new", data={"title": "A new draft here", "body": "text"})
    assert [d.token for d in db.session.scalars(select(Draft))] != ["old"]
    assert db.session.scalar(select(Draft).where(Draft.token == "old")) is None


def test_unsubscribe_links_expire(app, client, customer, make_thread):
    thread = make_thread(customer)
    subscription = db.session.scalar(select(Subscription).where(Subscription.thread_id == thread.id))
    token = notifications.unsubscribe_token(subscription)
    app.config["FORUMS_UNSUBSCRIBE_MAX_AGE"] = -1
    response = client.get(f"/forums/unsubscribe/{token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_feed_home_and_sitemap_sizes(app, client, customer, make_thread):
    app.config.update(FORUMS_FEED_ITEMS=1, FORUMS_HOME_THREADS=1, FORUMS_HOME_UNANSWERED_THREADS=1, FORUMS_SITEMAP_THREADS=1)
    make_thread(customer, title="First of two threads")
    make_thread(customer, title="Second of two threads")
    assert client.get("/feeds/forums/replication.atom").get_data(as_text=True).count("<entry>") == 1
    home = client.get("/").get_data(as_text=True)
    assert "Second of two" in home and "First of two" not in home
    assert len(re.findall(r"/threads/\d+", client.get("/sitemap.xml").get_data(as_text=True))) == 1


def test_deflection_limits(app, client, customer, staff, make_thread, make_reply):
    app.config.update(FORUMS_DEFLECTION_RESULTS=1, FORUMS_DEFLECTION_QUERY_MAX_LENGTH=20)
    for size in ("large", "small"):
        thread = make_thread(customer, title=f"Journal sizing for {size} VMs")
        thread.accepted_post_id = make_reply(thread, staff).id
    db.session.commit()
    assert len(client.get("/forums/answers?q=journal+sizing").get_json()["results"]) == 1
    # The query is cut to 20 characters: the words after that are ignored.
    assert client.get("/forums/answers?q=" + "zz " * 7 + "journal").get_json()["results"] == []


def test_notifications_per_page(app, client, customer, staff, make_thread, make_reply):
    app.config["FORUMS_NOTIFICATIONS_PER_PAGE"] = 1
    thread = make_thread(customer)
    for n in range(2):
        post = make_reply(thread, staff, f"Reply {n}")
        notifications.notify(post, "reply", staff)
    db.session.commit()
    login(client, customer)
    assert "Page 1 of 2" in client.get("/notifications").get_data(as_text=True)


def test_secret_patterns_from_config(app, client, customer, categories):
    app.config.update(FORUMS_SECRET_PATTERNS={"Site PIN": r"\bPIN\s*\d{6}\b"}, FORUMS_SECRET_PATTERNS_DISABLED=["password"])
    login(client, customer)
    response = client.post("/forums/networking/new", data={"title": "Door PIN question", "body": "PIN 123456 and password=Winter2026!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Site PIN" in page and "<strong>Password</strong>" not in page


def test_new_account_age_is_configurable(app, make_user, staff):
    from kb.forums.permissions import is_new_account

    user = make_user("customer")
    app.config["FORUMS_NEW_ACCOUNT_AGE"] = 3600
    assert is_new_account(user) and not is_new_account(staff)
    app.config["FORUMS_NEW_ACCOUNT_AGE"] = 0
    assert not is_new_account(user)


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_posts_need_a_csrf_token_except_one_click_unsubscribe(csrf_on, client, customer, make_thread):
    thread = make_thread(customer)
    subscription = db.session.scalar(select(Subscription).where(Subscription.thread_id == thread.id))
    token = notifications.unsubscribe_token(subscription)
    assert client.post(f"/threads/{thread.id}/reply", data={"body": "no token"}).status_code == 400
    assert client.post(f"/forums/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert db.session.scalar(select(Subscription)) is None


@pytest.fixture
def answers_limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, FORUMS_ANSWERS_RATE_LIMIT="2 per minute")


def test_answer_lookups_are_rate_limited(answers_limited, client, categories):
    codes = [client.get("/forums/answers?q=journal", headers={"Accept": "application/json"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.get("/forums/answers?q=journal", headers={"Accept": "application/json"})
    assert response.get_json()["error"]["status"] == 429


@pytest.fixture
def everyone_limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, FORUMS_POST_RATE_LIMIT="1 per minute")


def test_general_post_limit_applies_to_old_accounts_too(everyone_limited, client, customer, make_thread):
    from tests.forums.conftest import age

    age(customer)
    thread = make_thread(customer)
    login(client, customer)
    assert client.post(f"/threads/{thread.id}/reply", data={"body": "First reply"}).status_code == 302
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Second reply, kept"})
    assert response.status_code == 429 and "Second reply, kept" in response.get_data(as_text=True)
    assert "New accounts" not in response.get_data(as_text=True)


def test_flags_per_page_and_post_min_length(app, client, staff, customer, make_thread):
    app.config.update(FORUMS_FLAGS_PER_PAGE=1, FORUMS_POST_MIN_LENGTH=20)
    from kb.forums import moderation

    for n in range(2):
        moderation.flag_post(first_post(make_thread(customer, title=f"Flagged thread {n}")), staff, "spam")
    db.session.commit()
    login(client, staff)
    assert "Page 1 of 2" in client.get("/moderation/").get_data(as_text=True)
    response = client.post("/forums/networking/new", data={"title": "Short body here", "body": "too short"})
    assert response.status_code == 400 and "at least 20 characters" in response.get_data(as_text=True)


def test_categories_file_is_configurable(app, runner, tmp_path):
    path = tmp_path / "cats.yml"
    path.write_text("categories:\n  - {name: Only one, slug: only-one, read: everyone, post: users}\n")
    app.config["FORUMS_CATEGORIES_FILE"] = str(path)
    result = runner.invoke(args=["forums-seed"])
    assert "1 forum categories created" in result.output
    path.write_text("categories:\n  - {name: Broken, slug: only-one, read: nobody}\n")
    result = runner.invoke(args=["forums-seed"])
    assert result.exit_code != 0 and "read must be one of" in result.output
