"""Private categories stay private: lists, pages, feeds, sitemap, home, notifications, search and posting."""

from __future__ import annotations

import pytest

from kb.extensions import db
from kb.forums import notifications
from kb.forums.search_docs import build_thread_docs
from tests.conftest import login


@pytest.fixture
def staff_thread(make_thread, make_reply, staff):
    """Solved, so that only its category keeps it out of the composer's suggestions."""
    thread = make_thread(staff, slug="staff-room", title="Internal: known bug HS-2104 in 8.0.1", body="Escalate to engineering.")
    thread.accepted_post_id = make_reply(thread, staff, "Fixed in 8.0.2.").id
    db.session.commit()
    return thread


def test_staff_category_invisible_to_customers_everywhere(client, customer, staff_thread, categories):
    for who in (None, customer):
        if who:
            login(client, who)
        index = client.get("/forums/").get_data(as_text=True)
        assert "Staff room" not in index
        assert client.get("/forums/staff-room/").status_code == 404
        assert client.get(f"/threads/{staff_thread.id}").status_code == 404
        assert client.get(f"/threads/{staff_thread.id}-internal-known-bug").status_code == 404
        assert client.get("/feeds/forums/staff-room.atom").status_code == 404
        assert "Internal: known bug" not in client.get("/").get_data(as_text=True)
        assert "staff-room" not in client.get("/sitemap.xml").get_data(as_text=True)
        assert client.get("/forums/answers?q=known+bug").get_json()["results"] == []
        search = client.get("/search?q=HS-2104+known+bug").get_data(as_text=True)
        assert "Internal: known bug" not in search
        # Posting into a category you cannot read is a 404, not a hint that it exists.
        assert client.post("/forums/staff-room/new", data={"title": "Sneaky question", "body": "hi"}).status_code == 404
        assert client.post(f"/threads/{staff_thread.id}/reply", data={"body": "me too"}).status_code == 404


def test_staff_see_the_staff_category(client, staff, staff_thread):
    login(client, staff)
    assert "Staff room" in client.get("/forums/").get_data(as_text=True)
    assert client.get(f"/threads/{staff_thread.id}").status_code == 200
    assert "Internal: known bug" in client.get("/search?q=known+bug").get_data(as_text=True)
    assert [r["title"] for r in client.get("/forums/answers?q=known+bug").get_json()["results"]] == [staff_thread.title]


def test_users_only_category_needs_sign_in(client, customer, make_thread):
    thread = make_thread(customer, slug="customer-lounge", title="Our DR runbook template")
    assert client.get("/forums/customer-lounge/").status_code == 404
    assert client.get(f"/threads/{thread.id}").status_code == 404
    assert "customer-lounge" not in client.get("/sitemap.xml").get_data(as_text=True)
    login(client, customer)
    assert client.get("/forums/customer-lounge/").status_code == 200
    assert client.get("/feeds/forums/customer-lounge.atom").status_code == 200


def test_search_documents_carry_visibility(app, customer, make_thread, staff_thread):
    public = make_thread(customer)
    lounge = make_thread(customer, slug="customer-lounge", title="Lounge talk about journals")
    docs = build_thread_docs([public.id, lounge.id, staff_thread.id, 9999])
    assert docs[public.id].visibility == "public"
    assert docs[lounge.id].visibility == "authenticated"
    assert docs[staff_thread.id].visibility == "role:staff"
    assert docs[9999] is None


def test_notifications_follow_a_thread_moved_out_of_reach(client, customer, staff, make_thread, make_reply, categories):
    thread = make_thread(customer)
    reply = make_reply(thread, staff)
    notifications.notify(reply, "reply", staff)
    db.session.commit()
    assert notifications.unread_count(customer) == 1
    thread.category = categories["staff-room"]
    db.session.commit()
    assert notifications.unread_count(customer) == 0
    login(client, customer)
    assert thread.title not in client.get("/notifications").get_data(as_text=True)
    # And a new reply there emails nobody who cannot read it.
    second = make_reply(thread, staff, "Moved to the staff room.")
    assert notifications.notify(second, "reply", staff) == []
