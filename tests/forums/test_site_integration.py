"""Seeding, feeds, the sitemap, the home page, search, knowledge capture, and queries per thread page."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from sqlalchemy import event, select

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import ForumCategory, Thread
from kb.forums.seed import SeedError, load_categories
from tests.conftest import login
from tests.forums.conftest import first_post


def test_kb_init_seeds_categories_idempotently(app, runner):
    result = runner.invoke(args=["forums-seed"])
    assert result.exit_code == 0 and "9 forum categories created" in result.output
    category = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == "networking"))
    category.name = "Networks (renamed by an admin)"
    db.session.commit()
    result = runner.invoke(args=["forums-seed"])
    assert "0 forum categories created, 9 already present" in result.output
    assert db.session.get(ForumCategory, category.id).name == "Networks (renamed by an admin)"
    announcements = db.session.scalar(select(ForumCategory).where(ForumCategory.slug == "announcements"))
    assert (announcements.read_access, announcements.post_access) == ("everyone", "staff")


@pytest.mark.parametrize(
    "text, message",
    [
        ("categories:\n  - {name: A}\n", "needs a name and a slug"),
        ("categories:\n  - {name: A, slug: a, read: friends}\n", "read must be one of"),
        ("categories:\n  - {name: A, slug: a}\n  - {name: B, slug: a}\n", "used twice"),
        ("categories:\n  - {name: A, slug: 'A B'}\n", "lower-case"),
        ("just text", "expected a list"),
    ],
)
def test_bad_categories_file_is_explained(app, tmp_path, text, message):
    path = tmp_path / "forums.yml"
    path.write_text(text)
    with pytest.raises(SeedError, match=message):
        load_categories(path)


def test_feed_lists_new_threads(client, customer, make_thread):
    make_thread(customer, title="Feed entry <one> & two", body="**bold** body")
    response = client.get("/feeds/forums/replication.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in entries] == ["Feed entry <one> & two"]
    assert "<strong>bold</strong>" in entries[0].find("a:content", ns).text
    assert client.get("/feeds/forums/nope.atom").status_code == 404


def test_sitemap_and_home_section(client, customer, make_thread):
    public = make_thread(customer, title="Public question for the sitemap")
    lounge = make_thread(customer, slug="customer-lounge", title="Lounge question not for crawlers")
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"/threads/{public.id}-public-question-for-the-sitemap" in sitemap
    assert "/forums/replication/" in sitemap and "/forums/customer-lounge/" not in sitemap
    assert f"/threads/{lounge.id}" not in sitemap
    home = client.get("/").get_data(as_text=True)
    assert "home-latest-heading" in home and "Public question for the sitemap" in home
    assert "Lounge question" not in home
    login(client, customer)
    assert "Lounge question not for crawlers" in client.get("/").get_data(as_text=True)
    assert 'href="/forums/"' in home  # nav link


def test_threads_are_searchable_and_hidden_posts_are_not(client, customer, staff, make_thread, make_reply):
    thread = make_thread(customer, title="Appliance memory keeps growing", body="After upgrade to 8.0")
    reply = make_reply(thread, customer, "zebracorn secret workaround")
    assert "Appliance memory keeps growing" in client.get("/search?q=appliance+memory").get_data(as_text=True)
    threads.hide_post(reply, staff)
    db.session.commit()
    assert "Appliance memory" not in client.get("/search?q=zebracorn").get_data(as_text=True)
    threads.hide_post(first_post(thread), staff)
    db.session.commit()
    assert "Appliance memory" not in client.get("/search?q=appliance+memory").get_data(as_text=True)


def test_solved_thread_becomes_a_draft_article(client, customer, staff, make_thread, make_reply):
    from kb.articles.editing import publish
    from kb.articles.models import Article

    thread = make_thread(customer, title="How to shrink a journal safely", body="The journal is 2 TB.")
    reply = make_reply(thread, staff, "Lower the hard limit, then wait one history window.")
    login(client, staff)
    assert client.post(f"/threads/{thread.id}/capture").status_code == 400  # no accepted answer yet
    client.post(f"/posts/{reply.id}/accept")
    response = client.post(f"/threads/{thread.id}/capture")
    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    assert response.headers["Location"] == f"/articles/{article.slug}/edit"
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.post(f"/threads/{thread.id}/capture").headers["Location"] == f"/articles/{article.slug}/edit"
    assert article.title == "How to shrink a journal safely" and article.status == "draft"
    assert "Lower the hard limit" in article.body and "The journal is 2 TB." in article.body
    assert f"/threads/{thread.id}" in article.body
    assert db.session.get(Thread, thread.id).article_id == article.id
    client.post("/logout")
    assert "/articles/" not in client.get(f"/threads/{thread.id}").get_data(as_text=True).split("<main")[1]
    publish(article)
    db.session.commit()
    assert f'href="/articles/{article.slug}"' in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def _count_queries(client, url):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements)


def test_thread_page_queries_do_not_grow_with_posts(app, client, make_user, customer, staff, make_thread):
    app.config["FORUMS_POSTS_PER_PAGE"] = 50
    small = make_thread(customer, title="A thread with a few replies")
    big = make_thread(customer, title="A thread with fifty replies")
    authors = [make_user("customer") for _ in range(10)] + [staff]
    for number in range(3):
        threads.add_reply(small, authors[number], f"Reply {number}")
    for number in range(50):
        post = threads.add_reply(big, authors[number % len(authors)], f"Reply {number}")
        if number % 7 == 0:
            db.session.flush()
            threads.toggle_like(post, customer)
    db.session.commit()
    big.accepted_post_id = post.id
    db.session.commit()
    for viewer in (None, customer, staff):
        if viewer:
            login(client, viewer)
        few = _count_queries(client, f"/threads/{small.id}")
        many = _count_queries(client, f"/threads/{big.id}")
        assert many <= few + 1, (viewer, few, many)  # +1: the accepted answer is fetched when there is one
        assert many <= 14, many
        if viewer:
            client.post("/logout")
