"""The anonymous page cache on forum pages: every worker shows a change within the check interval,
and nobody is handed another visitor's token, flash or signed-in header."""

from __future__ import annotations

import re
import time

from sqlalchemy import event

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import Thread
from kb.page_cache import CSRF_MARKER, state
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


def test_cached_thread_page_gives_each_visitor_their_own_token(app, customer, make_thread):
    from flask import g

    app.config["WTF_CSRF_ENABLED"] = True
    thread = make_thread(customer)
    url = f"/threads/{thread.id}"
    seen = set()
    for _ in range(3):
        g.pop("csrf_token", None)  # test requests share one g; a real request starts without a token
        visitor = app.test_client()
        page = visitor.get(url).get_data(as_text=True)
        assert CSRF_MARKER not in page
        tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        with visitor.session_transaction() as session:
            secret = session.get("csrf_token")
        assert not tokens & seen
        seen |= tokens
        if tokens:
            assert secret, "a page with a token gives its visitor the secret it is signed with"


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
    login(client, customer)
    one, _ = _statements(client, f"/threads/{small.id}")
    twenty, elapsed = _statements(client, f"/threads/{big.id}")
    assert one == twenty
    assert elapsed < 0.5  # a few milliseconds on a quiet machine; generous for a shared one
