"""Forum posts rendered once per worker and shared by the viewers who see them alike: nobody is shown
another viewer's token, buttons or timezone, and a change shows at once."""

from __future__ import annotations

import re

from flask import g

from kb.extensions import db
from tests.conftest import login

TOKEN = re.compile(r'action="/posts/(\d+)/like"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"')


def _signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def _page(client, thread) -> str:
    g.pop("csrf_token", None)  # test requests share one g; a real request starts without a token
    response = client.get(f"/threads/{thread.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_viewer_gets_their_own_working_token_in_a_shared_post(app, customer, other_customer, make_thread,
                                                                   make_reply, staff):
    thread = make_thread(staff)
    reply = make_reply(thread, staff, "Grow the journal to 15% of the VM size.")
    first, second = _signed_in(app, customer), _signed_in(app, other_customer)
    app.config["WTF_CSRF_ENABLED"] = True
    tokens = {}
    for name, client in (("first", first), ("second", second)):
        tokens[name] = dict(TOKEN.findall(_page(client, thread)))[str(reply.id)]
    assert tokens["first"] != tokens["second"]
    assert "kb-csrf-" not in _page(first, thread)
    response = second.post(f"/posts/{reply.id}/like", data={"csrf_token": tokens["second"]})
    assert response.status_code == 302  # the token in the shared piece is this viewer's own
    assert "1 like<" in _page(first, thread)  # and the like shows to the other viewer at once


def test_the_author_sees_edit_on_their_post_and_nobody_else_does(app, customer, other_customer, make_thread,
                                                                 make_reply):
    thread = make_thread(customer)
    reply = make_reply(thread, customer, "Found it: the journal was full.")
    edit_link = f'href="/posts/{reply.id}/edit"'
    assert edit_link not in _page(_signed_in(app, other_customer), thread)
    assert edit_link in _page(_signed_in(app, customer), thread)
    assert edit_link not in _page(_signed_in(app, other_customer), thread)


def test_times_follow_each_viewers_timezone(app, make_user, org, make_thread, make_reply, staff):
    thread = make_thread(staff)
    make_reply(thread, staff)
    tokyo = make_user("customer", org=org, timezone="Asia/Tokyo")
    utc = make_user("customer", org=org, timezone="UTC")
    assert "JST" in _page(_signed_in(app, tokyo), thread)
    page = _page(_signed_in(app, utc), thread)
    assert "JST" not in page and "UTC" in page


def test_an_edit_shows_at_once(app, customer, make_thread, make_reply):
    thread = make_thread(customer)
    reply = make_reply(thread, customer, "Check the journal size first.")
    client = _signed_in(app, customer)
    assert "Check the journal size first." in _page(client, thread)
    reply.body_html = "<p>Check the bandwidth first.</p>"
    db.session.commit()
    page = _page(client, thread)
    assert "Check the bandwidth first." in page and "Check the journal size first." not in page


def test_pieces_can_be_turned_off(app, customer, make_thread, make_reply):
    app.config["PAGE_PIECES_SIZE"] = 0
    thread = make_thread(customer)
    make_reply(thread, customer, "Check the journal size first.")
    assert "Check the journal size first." in _page(_signed_in(app, customer), thread)
    assert "kb_page_pieces" not in app.extensions
