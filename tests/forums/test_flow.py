"""The issue's 'done when': register, ask, get a staff reply, accept it, see it listed as solved."""

from __future__ import annotations

import re

from sqlalchemy import select

from kb.extensions import db
from kb.forums.models import Thread
from tests.conftest import login


def test_new_user_asks_staff_answers_and_thread_is_solved(client, categories, staff):
    response = client.post(
        "/register",
        data={"email": "new@cust.example", "display_name": "Nina New", "password": "a long password 1", "confirm": "a long password 1"},
    )
    assert response.status_code == 302
    assert client.post("/login", data={"email": "new@cust.example", "password": "a long password 1"}).status_code == 302
    response = client.post(
        "/forums/replication/new",
        data={"title": "Journal history shorter than configured", "body": "We set 24 hours but see **6**.", "tags": "journal, 8.0"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    thread = db.session.scalar(select(Thread))
    assert response.headers["Location"] == f"/threads/{thread.id}-journal-history-shorter-than-configured"
    assert thread.tags == ["journal", "8.0"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>6</strong>" in page and 'class="user-content' in page

    staff_client = client.application.test_client()
    login(staff_client, staff)
    response = staff_client.post(f"/threads/{thread.id}/reply", data={"body": "Your journal datastore is full; see the sizing article."})
    assert response.status_code == 302
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "badge-staff" in page and "Sam Support" in page
    reply_id = int(re.search(r'action="/posts/(\d+)/accept"', page).group(1))

    assert client.post(f"/posts/{reply_id}/accept").status_code == 302
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Accepted answer" in page
    listing = client.get("/forums/replication/?filter=solved").get_data(as_text=True)
    assert "Journal history shorter than configured" in listing and "Solved" in listing
    assert "Journal history" not in client.get("/forums/replication/?filter=unanswered").get_data(as_text=True)


def test_anonymous_can_read_but_not_post(client, make_thread, customer):
    thread = make_thread(customer)
    assert client.get("/forums/").status_code == 200
    assert client.get("/forums/replication/").status_code == 200
    assert client.get(f"/threads/{thread.id}").status_code == 200
    response = client.get("/forums/replication/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for url in (f"/threads/{thread.id}/reply", f"/threads/{thread.id}/watch"):
        response = client.post(url, data={"body": "x" * 20})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(Thread).where(Thread.id == thread.id)).reply_count == 0
