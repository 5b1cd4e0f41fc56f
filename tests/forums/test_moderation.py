"""Flags and the staff queue; hide, restore, pin, move, announce; category management by admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums.models import Flag, ForumCategory, Post, Thread
from tests.conftest import login
from tests.forums.conftest import first_post


def test_flag_appears_in_the_queue_and_hiding_resolves_it(client, customer, other_customer, staff, make_thread, make_reply):
    thread = make_thread(customer)
    spam = make_reply(thread, other_customer, "Buy cheap licences at spam.example")
    login(client, customer)
    assert client.get(f"/posts/{spam.id}/flag").status_code == 200
    assert client.post(f"/posts/{spam.id}/flag", data={"reason": "nonsense"}).status_code == 400
    assert client.post(f"/posts/{spam.id}/flag", data={"reason": "spam", "note": "Advert"}).status_code == 302
    assert client.get("/moderation/").status_code == 403
    client.post("/logout")
    login(client, staff)
    queue = client.get("/moderation/").get_data(as_text=True)
    assert "Spam or advertising" in queue and "Advert" in queue and thread.title in queue
    assert client.post(f"/posts/{spam.id}/hide", data={"next": "moderation"}).headers["Location"] == "/moderation/"
    assert "No open flags" in client.get("/moderation/").get_data(as_text=True)
    assert db.session.scalar(select(Flag)).resolution == "hidden"
    client.post("/logout")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "spam.example" not in page and "removed" in page
    assert client.get(f"/posts/{spam.id}").status_code == 404


def test_dismissing_flags_keeps_the_post(client, customer, staff, make_thread):
    thread = make_thread(customer)
    post = first_post(thread)
    login(client, staff)
    client.post(f"/posts/{post.id}/flag", data={"reason": "other"})
    client.post(f"/moderation/posts/{post.id}/dismiss")
    assert db.session.scalar(select(Flag)).resolution == "dismissed"
    assert db.session.get(Post, post.id).visible


def test_anonymous_and_customers_cannot_moderate(client, customer, make_thread):
    thread = make_thread(customer)
    post = first_post(thread)
    assert client.get("/moderation/").status_code == 302
    assert client.post(f"/posts/{post.id}/flag", data={"reason": "spam"}).status_code == 302
    login(client, customer)
    for url in (f"/threads/{thread.id}/moderate", f"/threads/{thread.id}/move", f"/posts/{post.id}/hide",
                f"/threads/{thread.id}/capture", "/moderation/secret-patterns"):
        assert client.post(url, data={"action": "lock", "category_id": 1}).status_code == 403, url
    assert client.get("/moderation/categories").status_code == 403


def test_pin_announce_and_move(client, customer, staff, make_thread, categories):
    older = make_thread(customer, title="Older question about pinning")
    newer = make_thread(customer, title="Newer question about pinning")
    login(client, staff)
    client.post(f"/threads/{older.id}/moderate", data={"action": "pin"})
    listing = client.get("/forums/replication/").get_data(as_text=True)
    assert listing.index("Older question") < listing.index("Newer question")
    client.post(f"/threads/{newer.id}/moderate", data={"action": "announce"})
    assert "Newer question about pinning" in client.get("/forums/").get_data(as_text=True).split("Categories")[0]
    assert client.post(f"/threads/{older.id}/moderate", data={"action": "explode"}).status_code == 400
    response = client.post(f"/threads/{older.id}/move", data={"category_id": categories["networking"].id})
    assert response.status_code == 302
    assert db.session.get(Thread, older.id).category.slug == "networking"
    assert client.post(f"/threads/{older.id}/move", data={"category_id": 9999}).status_code == 400


def test_admin_manages_categories(client, admin, staff, categories):
    login(client, staff)
    assert client.get("/moderation/categories").status_code == 403
    client.post("/logout")
    login(client, admin)
    assert "Staff room" in client.get("/moderation/categories").get_data(as_text=True)
    data = {"name": "Partners", "slug": "partners", "description": "For resellers", "position": 80,
            "read_access": "staff", "post_access": "staff"}
    assert client.post("/moderation/categories/new", data=data).status_code == 302
    assert client.post("/moderation/categories/new", data=data).status_code == 400  # slug taken
    assert client.post("/moderation/categories/new", data={**data, "slug": "Bad Slug!"}).status_code == 400
    assert client.post("/moderation/categories/new", data={**data, "slug": "new"}).status_code == 400
    partners = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == "partners"))
    response = client.post(f"/moderation/categories/{partners.id}", data={**data, "read_access": "everyone", "name": "Partners corner"})
    assert response.status_code == 302
    client.post("/logout")
    assert "Partners corner" in client.get("/forums/").get_data(as_text=True)


def test_queue_shows_only_flags_the_moderator_may_read(client, admin, staff, make_thread, categories):
    secret = ForumCategory(slug="board", name="Board room", read_access="admin", post_access="admin")
    db.session.add(secret)
    db.session.commit()
    categories["board"] = secret
    thread = make_thread(admin, slug="board", title="Admin-only matter to discuss")
    db.session.add(Flag(post=first_post(thread), reporter_id=admin.id, reason="other"))
    db.session.commit()
    login(client, staff)
    assert "Admin-only matter" not in client.get("/moderation/").get_data(as_text=True)
    client.post("/logout")
    login(client, admin)
    assert "Admin-only matter" in client.get("/moderation/").get_data(as_text=True)


def test_category_slug_and_pattern_rules_without_a_request(app, staff, categories):
    """The checks behind the admin forms are plain functions: the same refusals outside a request."""
    from kb.forums import moderation
    from kb.forums.threads import ForumError

    assert moderation.category_slug("  Partners ", None) == "partners"
    replication = categories["replication"]
    assert moderation.category_slug("replication", replication) == "replication"  # its own slug is no clash
    with pytest.raises(ForumError, match="already uses"):
        moderation.category_slug("replication", None)
    moderation.add_secret_pattern(" VPN key ", r"psk\s*=\s*\S{8,}", staff)
    db.session.commit()
    with pytest.raises(ForumError, match="exists already"):
        moderation.add_secret_pattern("VPN key", r"vpn\s*=\s*\S{8,}", staff)


def test_drafts_are_taken_once_and_only_on_their_page(app):
    from kb.forums import drafts

    token = drafts.keep("/forums/networking/new", {"title": "Proxy\x00 question", "body": "Port 9071"}, ("title", "body", "tags"))
    db.session.commit()
    assert drafts.take(token, "/threads/1/reply") is None
    assert drafts.take(token, "/forums/networking/new") == {"title": "Proxy question", "body": "Port 9071", "tags": ""}
    db.session.commit()
    assert drafts.take(token, "/forums/networking/new") is None
    assert drafts.take(None, "/forums/networking/new") is None
