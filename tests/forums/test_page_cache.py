"""The anonymous page cache on forum pages: every worker shows a change within the check interval,
and nobody is handed another visitor's token, flash or signed-in header."""

from __future__ import annotations

import re
import time

from sqlalchemy import event

from kb.extensions import db
from kb.forums import notifications, threads
from kb.forums.models import Thread
from kb.page_cache import CSRF_MARKER, state
from kb.page_cache.store import LruStore
from tests.conftest import login


def test_a_change_on_one_worker_shows_on_the_other_within_the_interval(app, client, customer, make_thread,
                                                                       second_worker):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0.3
    thread = make_thread(customer, title="RPO alarm after adding a VM")
    pages = (f"/threads/{thread.id}", "/forums/replication/", "/")
    for url in pages:
        assert "RPO alarm after adding a VM" in client.get(url).get_data(as_text=True)
    assert all(url in key for url, key in zip(pages, state(app).store.entries))  # now served from the cache
    with second_worker.app_context():
        db.session.get(Thread, thread.id).title = "RPO alarm: solved by a bigger journal"
        db.session.commit()
    time.sleep(0.35)
    for url in pages:
        assert "RPO alarm: solved by a bigger journal" in client.get(url).get_data(as_text=True), url


def test_a_reply_made_here_shows_at_once(app, client, customer, make_thread, make_reply):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600
    thread = make_thread(customer)
    client.get(f"/threads/{thread.id}")
    make_reply(thread, customer, "Grow the journal to 15% of the VM size.")
    assert "Grow the journal" in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_a_signed_out_thread_page_needs_no_token_and_sets_no_cookie(app, customer, other_customer, make_thread,
                                                                     make_reply):
    """A visitor has nothing to press on a thread (liking needs an account), so the cached page
    carries no token: no session is made and no cookie signed for each new visitor. A member who may
    like a post still gets the form with a token of their own."""
    app.config["WTF_CSRF_ENABLED"] = True
    thread = make_thread(customer)
    make_reply(thread, customer, "Grow the journal.")
    url = f"/threads/{thread.id}"
    pages = []
    for _ in range(2):
        response = app.test_client().get(url)
        assert "Set-Cookie" not in response.headers
        pages.append(response.get_data(as_text=True))
    assert pages[0] == pages[1]
    assert "csrf_token" not in pages[0] and CSRF_MARKER not in pages[0]
    assert '<span class="like-count">0 likes</span>' in pages[0]
    app.config["WTF_CSRF_ENABLED"] = False  # the test sign-in posts no token
    member = app.test_client()
    login(member, other_customer)
    page = member.get(url).get_data(as_text=True)
    assert re.search(r'action="/posts/\d+/like"', page)
    assert re.search(r'name="csrf_token" value="[^"]+"', page)


def test_flashes_and_the_signed_in_header_never_reach_another_visitor(app, client, customer, make_thread):
    thread = make_thread(customer)
    url = f"/threads/{thread.id}"
    flashed = app.test_client()
    with flashed.session_transaction() as session:
        session["_flashes"] = [("info", "Only for the first visitor")]
    assert "Only for the first visitor" in flashed.get(url).get_data(as_text=True)
    assert "Only for the first visitor" not in client.get(url).get_data(as_text=True)
    member = app.test_client()
    login(member, customer)
    assert 'href="/account"' in member.get("/").get_data(as_text=True)
    assert 'href="/account"' not in client.get("/").get_data(as_text=True)
    assert "Sign out" not in client.get(url).get_data(as_text=True)
    assert "Sign out" in member.get(url).get_data(as_text=True)


def test_cached_pages_answer_conditional_requests(app, client, customer, make_thread):
    thread = make_thread(customer)
    for url in (f"/threads/{thread.id}", "/", "/feeds/forums/replication.atom"):
        first = client.get(url)
        assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
        assert "Cookie" in first.headers["Vary"]
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
    threads.add_reply(thread, customer, "A new answer changes the page.")
    db.session.commit()
    changed = client.get(f"/threads/{thread.id}", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200


def _statements(client, url) -> int:
    client.get(url)
    found = []

    def record(*args):
        found.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        elapsed = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(found), elapsed


def test_signed_in_thread_page_costs_the_same_with_1_or_20_replies(app, client, customer, make_user, make_thread):
    small, big = make_thread(customer, title="One reply"), make_thread(customer, title="Twenty replies")
    authors = [make_user("customer") for _ in range(5)]
    threads.add_reply(small, authors[0], "The only reply.")
    for number in range(20):
        threads.add_reply(big, authors[number % 5], f"Reply {number}")
    db.session.commit()
    app.config["SEARCH_DRAIN_INTERVAL"] = 0  # no index catch-up check in the middle of a count
    app.config["PAGE_CACHE_SIGNED_IN_SECONDS"] = 0  # the page itself, not the copy kept for the user
    login(client, customer)
    one, _ = _statements(client, f"/threads/{small.id}")
    twenty, elapsed = _statements(client, f"/threads/{big.id}")
    assert one == twenty
    assert elapsed < 0.5  # a few milliseconds on a quiet machine; generous for a shared one


# --- Pages kept for one signed-in reader -----------------------------------------------------------

def _kept_for(app, user) -> list:
    return [key for key in state(app).viewer_store.entries if key[1] == user.id]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_signed_in_thread_page_is_kept_for_its_reader_alone(app, client, customer, other_customer, make_thread):
    thread = make_thread(customer)
    url = f"/threads/{thread.id}"
    login(client, customer)
    first = client.get(url).get_data(as_text=True)
    assert len(_kept_for(app, customer)) == 1
    statements, _ = _statements(client, url)
    assert statements <= 1, "served again without rendering: the user row at most"
    member = app.test_client()
    login(member, other_customer)
    theirs = member.get(url).get_data(as_text=True)
    assert f'<span class="account-name">{other_customer.display_name}</span>' in theirs
    assert f'<span class="account-name">{customer.display_name}</span>' in first
    assert CSRF_MARKER not in theirs + first and _token(theirs) and _token(first)
    assert len(_kept_for(app, other_customer)) == 1
    response = client.get(url)
    assert response.headers["Cache-Control"] == "private, no-cache" and "Cookie" in response.headers["Vary"]


def test_what_the_reader_does_elsewhere_shows_on_their_kept_page(app, client, customer, other_customer, make_thread,
                                                                   make_reply):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600  # no change counter is read again: only the user row tells
    thread = make_thread(customer)  # its author watches it
    notifications.notify(make_reply(thread, other_customer, "Grow the journal."), "reply", other_customer)
    db.session.commit()
    url = f"/threads/{thread.id}"
    login(client, customer)
    assert "unread notifications" in client.get(url).get_data(as_text=True)
    client.get("/notifications")  # reads them
    assert "unread notifications" not in client.get(url).get_data(as_text=True)
    assert " JST</time>" not in client.get(url).get_data(as_text=True)
    client.post("/account", data={"action": "profile", "profile-display_name": customer.display_name,
                                  "profile-timezone": "Asia/Tokyo"})
    assert " JST</time>" in client.get(url).get_data(as_text=True)


def test_a_change_on_another_worker_reaches_a_kept_page_within_the_interval(app, client, customer, make_thread,
                                                                            second_worker):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0.3
    thread = make_thread(customer, title="RPO alarm after adding a VM")
    login(client, customer)
    assert "RPO alarm after adding a VM" in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    with second_worker.app_context():
        db.session.get(Thread, thread.id).title = "RPO alarm: solved by a bigger journal"
        db.session.commit()
    time.sleep(0.35)
    assert "RPO alarm: solved by a bigger journal" in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_a_session_holding_more_than_the_login_is_never_kept(app, client, customer, make_thread):
    thread = make_thread(customer)
    login(client, customer)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Your reply was saved")]
    assert "Your reply was saved" in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Your reply was saved" not in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    with client.session_transaction() as session:
        session["case_draft"] = {"title": "Replication stopped", "body": ""}
    client.get(f"/threads/{thread.id}")
    assert len(_kept_for(app, customer)) == 1, "only the page seen with nothing but the login in the session"
    app.config["PAGE_CACHE_SIGNED_IN_SECONDS"] = 0
    state(app).viewer_store.clear()
    client.get(f"/threads/{thread.id}")
    assert _kept_for(app, customer) == []


def test_the_header_count_is_counted_again_only_when_the_readers_notifications_change(
        app, client, customer, other_customer, make_thread, make_reply):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600  # no change counter is read again: only the user row tells
    thread = make_thread(customer)
    login(client, customer)
    assert "unread notifications" not in client.get("/").get_data(as_text=True)
    assert "unread notifications" not in client.get("/account").get_data(as_text=True)
    statements, _ = _statements(client, "/account")
    notifications.notify(make_reply(thread, other_customer, "Grow the journal."), "reply", other_customer)
    db.session.commit()
    assert "1<span class=\"visually-hidden\"> unread notifications" in client.get("/account").get_data(as_text=True)
    client.get("/notifications")
    assert "unread notifications" not in client.get("/account").get_data(as_text=True)
    state(app).viewer_values = LruStore(0)  # keeps nothing
    counted, _ = _statements(client, "/account")
    assert counted > statements, "the count is otherwise read on every page"
