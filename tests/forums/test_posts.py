"""Posting rules: validation limits, hostile input, editing, deleting, locking, quoting, likes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums.models import Post, PostLike, PostRevision, Thread
from tests.conftest import login
from tests.forums.conftest import first_post


@pytest.fixture
def signed_in(client, customer, categories):
    login(client, customer)
    return client


def test_hostile_markdown_and_html_are_neutralised(signed_in, app):
    body = (
        "<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
        "<iframe src='https://evil.example'></iframe> <a href='https://ok.example' onclick='x()' style='color:red'>ok</a>\n\n"
        "![tracker](https://evil.example/pixel.gif) visit https://docs.example.com/kb now"
    )
    title = "<img src=x onerror=alert(9)> <b>Bold</b> title here"
    response = signed_in.post("/forums/networking/new", data={"title": title, "body": body})
    assert response.status_code == 302
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    content = page[page.index('class="user-content'):]
    content = content[: content.index("</article>")]
    for bad in ("<script", "javascript:", "onerror", "<iframe", "onclick", "style=", "evil.example/pixel"):
        assert bad not in content, bad
    assert 'href="https://docs.example.com/kb"' in content
    assert 'rel="nofollow noopener noreferrer ugc"' in content
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(9)&gt;" in page


def test_nul_characters_and_odd_unicode_do_not_break_posting(signed_in):
    title = "Nul\x00 byte and \u202eRTL\u202c title 🙂"
    response = signed_in.post("/forums/networking/new", data={"title": title, "body": "body\x00 text", "tags": "a\x00b"})
    assert response.status_code == 302
    thread = db.session.scalar(select(Thread))
    assert "\x00" not in thread.title and thread.tags == ["ab"]
    assert signed_in.get(response.headers["Location"]).status_code == 200


def test_images_only_from_allowed_hosts(app, signed_in):
    app.config["IMAGE_HOSTS"] = ["img.example.com"]
    body = "![ok](https://img.example.com/a.png) ![no](https://other.example/b.png)"
    assert signed_in.post("/forums/networking/new", data={"title": "Screenshot of the MTU error", "body": body}).status_code == 302
    html = db.session.scalar(select(Post)).body_html
    assert "https://img.example.com/a.png" in html and "other.example" not in html


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "short", "body": "body text"}, "at least 8 characters"),
        ({"title": "T" * 161, "body": "body text"}, "the limit is 160"),
        ({"title": "A fine title here", "body": ""}, "Describe your question"),
        ({"title": "A fine title here", "body": "ok", "tags": "a,b,c,d,e,f"}, "at most 5 tags"),
    ],
)
def test_invalid_thread_is_rejected_with_text_kept(signed_in, data, message):
    response = signed_in.post("/forums/networking/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert (data["title"][:50]) in page
    assert db.session.scalar(select(Thread)) is None


def test_huge_post_gets_a_clear_error_and_keeps_the_text(app, signed_in):
    app.config["FORUMS_POST_MAX_LENGTH"] = 500
    body = "log line 0123456789\n" * 40
    response = signed_in.post("/forums/networking/new", data={"title": "Very long log paste", "body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "the limit is 500" in page and "log line 0123456789" in page


def test_request_over_max_content_length_is_413(app, signed_in):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = signed_in.post("/forums/networking/new", data={"title": "Enormous", "body": "x" * 20_000})
    assert response.status_code == 413


def test_edit_own_post_marks_it_and_keeps_history_for_staff(client, customer, other_customer, staff, make_thread):
    thread = make_thread(customer, body="Original text")
    post = first_post(thread)
    login(client, other_customer)
    assert client.post(f"/posts/{post.id}/edit", data={"title": thread.title, "body": "Hijacked"}).status_code == 403
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    client.post("/logout")
    login(client, customer)
    response = client.post(f"/posts/{post.id}/edit", data={"title": "RPO alarm after adding a big VM", "body": "Updated text", "tags": "rpo"})
    assert response.status_code == 302
    db.session.refresh(thread)
    assert thread.title == "RPO alarm after adding a big VM" and thread.tags == ["rpo"]
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Updated text" in page and ">edited<" in page and "/history" not in page
    assert client.get(f"/posts/{post.id}/history").status_code == 403
    client.post("/logout")
    login(client, staff)
    history = client.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert "Original text" in history and "RPO alarm after adding a VM" in history
    assert db.session.scalar(select(PostRevision.body)) == "Original text"


def test_delete_is_soft_and_staff_restore(client, customer, staff, make_thread, make_reply):
    thread = make_thread(staff)
    reply = make_reply(thread, customer, "My reply with a typo")
    login(client, customer)
    assert client.post(f"/posts/{reply.id}/delete").status_code == 302
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "My reply with a typo" not in page and "removed" in page
    assert db.session.get(Post, reply.id) is not None
    assert client.post(f"/posts/{reply.id}/restore").status_code == 404  # customers cannot even see it
    client.post("/logout")
    login(client, staff)
    assert "My reply with a typo" in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert client.post(f"/posts/{reply.id}/restore").status_code == 302
    db.session.refresh(thread)
    assert thread.reply_count == 1
    client.post("/logout")
    assert "My reply with a typo" in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_deleting_the_question_removes_the_thread_for_others(client, customer, other_customer, make_thread):
    thread = make_thread(customer)
    login(client, customer)
    assert client.post(f"/posts/{first_post(thread).id}/delete").status_code == 302
    client.post("/logout")
    assert client.get(f"/threads/{thread.id}").status_code == 404
    assert thread.title not in client.get("/forums/replication/").get_data(as_text=True)


def test_locked_thread_takes_no_replies_except_from_staff(client, customer, staff, make_thread):
    thread = make_thread(customer)
    login(client, staff)
    assert client.post(f"/threads/{thread.id}/moderate", data={"action": "lock"}).status_code == 302
    client.post("/logout")
    login(client, customer)
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Any news on this?"})
    assert response.status_code == 403 and "locked" in response.get_data(as_text=True)
    assert "locked" in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert client.get(f"/posts/{first_post(thread).id}/edit").status_code == 403
    client.post("/logout")
    login(client, staff)
    assert client.post(f"/threads/{thread.id}/reply", data={"body": "Closing note from support."}).status_code == 302


def test_quote_prefills_the_reply(client, customer, staff, make_thread, make_reply):
    thread = make_thread(customer)
    reply = make_reply(thread, staff, "Line one\nLine two")
    login(client, customer)
    page = client.get(f"/threads/{thread.id}/reply?quote={reply.id}").get_data(as_text=True)
    assert "**Sam Support** wrote:" in page and "&gt; Line one\n&gt; Line two" in page


def test_likes_one_per_user_and_not_your_own(client, customer, other_customer, staff, make_thread, make_reply):
    thread = make_thread(customer)
    reply = make_reply(thread, staff)
    login(client, customer)
    client.post(f"/posts/{reply.id}/like")
    assert db.session.get(Post, reply.id).like_count == 1
    client.post(f"/posts/{reply.id}/like")  # a second click takes it back
    db.session.expire_all()
    assert db.session.get(Post, reply.id).like_count == 0
    client.post(f"/posts/{reply.id}/like")
    assert client.post(f"/posts/{first_post(thread).id}/like").status_code == 400
    client.post("/logout")
    login(client, other_customer)
    client.post(f"/posts/{reply.id}/like")
    db.session.expire_all()
    assert db.session.get(Post, reply.id).like_count == 2
    assert db.session.scalar(select(db.func.count(PostLike.id))) == 2


def test_only_author_or_staff_accept(client, customer, other_customer, staff, make_thread, make_reply):
    thread = make_thread(customer)
    reply = make_reply(thread, other_customer)
    login(client, other_customer)
    assert client.post(f"/posts/{reply.id}/accept").status_code == 403
    client.post("/logout")
    login(client, staff)
    assert client.post(f"/posts/{reply.id}/accept").status_code == 302
    db.session.refresh(thread)
    assert thread.accepted_post_id == reply.id
    assert client.post(f"/posts/{first_post(thread).id}/accept").status_code == 400


def test_thread_url_slug_is_optional(client, customer, make_thread):
    thread = make_thread(customer)
    assert client.get(f"/threads/{thread.id}").status_code == 200
    assert client.get(f"/threads/{thread.id}-any-old-slug").status_code == 200
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert re.search(rf'rel="canonical" href="http://localhost/threads/{thread.id}-rpo-alarm-after-adding-a-vm"', page)


def test_announcements_are_staff_only_to_start(client, customer, staff, categories):
    login(client, customer)
    response = client.post("/forums/announcements/new", data={"title": "Customer announcement", "body": "hello"})
    assert response.status_code == 403
    assert "Ask a question" not in client.get("/forums/announcements/").get_data(as_text=True)
    client.post("/logout")
    login(client, staff)
    assert client.post("/forums/announcements/new", data={"title": "8.0 Update 2 is out", "body": "Release notes..."}).status_code == 302


def test_reply_count_survives_hide_then_delete_then_restore(app, customer, staff, make_thread, make_reply):
    from kb.forums import threads as logic

    thread = make_thread(customer)
    reply = make_reply(thread, customer)
    logic.hide_post(reply, staff)
    logic.delete_post(reply, staff)
    assert thread.reply_count == 0
    logic.restore_post(reply)
    assert thread.reply_count == 1 and reply.visible
