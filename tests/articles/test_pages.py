"""Reading the knowledge base: lists, filters, the article page, drafts, feeds, sitemap, home page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import event

from kb.articles import editing
from kb.articles.models import Article, ArticleStatus
from kb.extensions import db
from tests.conftest import login

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def published(make_article):
    return make_article()


@pytest.fixture
def draft(make_article):
    return make_article(title="Secret upcoming feature", body="## Not yet\n\nUnder wraps.", status="draft",
                        tags=("ports", "secret"))


@pytest.fixture
def archived(make_article):
    return make_article(title="Old 6.x procedure", body="## Gone\n\nOld.", status="archived")


def test_article_page_shows_stored_html_contents_and_meta(client, published):
    page = client.get("/articles/open-the-replication-ports").get_data(as_text=True)
    assert "<h1 id=\"article-title\">Open the replication ports</h1>" in page
    assert '<h2 id="ports">Ports</h2>' in page
    assert '<a href="#ports">Ports</a>' in page  # table of contents
    assert 'aria-label="Breadcrumb"' in page and ">Networking</a>" in page
    assert "How-to" in page and "Applies to version 8.0" in page
    assert '<meta name="description" content="Which ports to open.">' in page
    assert '<link rel="canonical" href="http://localhost/articles/open-the-replication-ports">' in page
    assert "<title>Open the replication ports · " in page
    assert "Was this article helpful?" in page


def test_article_page_serves_stored_html_without_rendering(client, published):
    # Change the Markdown behind the renderer's back: the page must still show the stored HTML.
    db.session.execute(Article.__table__.update().values(body="## Changed\n\nnew words"))
    db.session.commit()
    page = client.get("/articles/open-the-replication-ports").get_data(as_text=True)
    assert "Open TCP 9071." in page and "new words" not in page


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_drafts_and_archived_articles_are_404_for_readers(client, draft, archived, who, customer):
    if who == "customer":
        login(client, customer)
    for article in (draft, archived):
        response = client.get(f"/articles/{article.slug}")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
        assert client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"}).status_code == 404


def test_staff_see_drafts_with_noindex(client, staff, draft):
    login(client, staff)
    page = client.get(f"/articles/{draft.slug}").get_data(as_text=True)
    assert "Under wraps." in page and "Draft" in page
    assert '<meta name="robots" content="noindex">' in page


def test_unknown_article_is_404(client, app):
    assert client.get("/articles/nothing-here").status_code == 404


def test_drafts_do_not_leak_into_lists_feed_sitemap_or_category(client, published, draft, archived, category):
    for url in ("/articles/", "/articles/?tag=ports", f"/categories/{category.slug}", "/feeds/articles.atom",
                "/sitemap.xml", "/"):
        body = client.get(url).get_data(as_text=True)
        assert "Open the replication ports" in body or "open-the-replication-ports" in body, url
        assert "Secret upcoming feature" not in body and draft.slug not in body, url
        assert archived.slug not in body, url


def test_list_filters_by_type_category_and_tag(client, make_article, other_category):
    make_article(title="Fix the firewall", type="troubleshooting", tags=("firewall",))
    make_article(title="Upgrade order", type="best-practice", tags=("upgrades",), cat=other_category)
    make_article(title="Ports table", type="reference", tags=("ports", "firewall"))

    def titles(query):
        page = client.get("/articles/" + query).get_data(as_text=True)
        return set(re.findall(r'class="article-card-title"><a href="[^"]+">([^<]+)</a>', page))

    assert titles("") == {"Fix the firewall", "Upgrade order", "Ports table"}
    assert titles("?type=troubleshooting") == {"Fix the firewall"}
    assert titles("?category=upgrades") == {"Upgrade order"}
    assert titles("?tag=firewall") == {"Fix the firewall", "Ports table"}
    assert titles("?tag=FIREWALL&type=reference") == {"Ports table"}
    assert titles("?tag=nothing") == set()


def test_list_rejects_unknown_filters_clearly(client, published):
    response = client.get("/articles/?type=novel")
    assert response.status_code == 400
    assert "no article type called" in response.get_data(as_text=True)
    assert client.get("/articles/?category=nowhere").status_code == 404
    assert client.get("/articles/?page=abc").status_code == 200


def test_list_paginates(client, app, make_article):
    app.config["PER_PAGE"] = 2
    for number in range(5):
        make_article(title=f"Article {number}", tags=())
    first = client.get("/articles/").get_data(as_text=True)
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = client.get("/articles/?page=3").get_data(as_text=True)
    assert last.count('class="article-card"') == 1
    assert client.get("/articles/?page=99").status_code == 200


def test_category_page(client, published, category):
    page = client.get("/categories/networking").get_data(as_text=True)
    assert "<h1>Networking</h1>" in page and "Ports and firewalls." in page
    assert "Open the replication ports" in page
    assert client.get("/categories/nope").status_code == 404


def test_related_articles_by_shared_tags_then_category(client, make_article, other_category):
    article = make_article(title="Main", tags=("ports", "firewall", "proxy"))
    make_article(title="Shares two tags", tags=("ports", "firewall"), cat=other_category)
    make_article(title="Shares one tag", tags=("proxy",), cat=other_category)
    make_article(title="Same category only", tags=("other",))
    make_article(title="Unrelated", tags=("x",), cat=other_category)
    make_article(title="Draft sibling", tags=("ports", "firewall", "proxy"), status="draft")
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    related = page.split('id="related-heading"')[1].split("</aside>")[0]
    order = re.findall(r'<a href="/articles/[^"]+">([^<]+)</a>', related)
    assert order == ["Shares two tags", "Shares one tag", "Same category only"]


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs):
        self.count += 1


def _queries_for(client, url) -> int:
    client.get(url)  # warm up: first-request work (e.g. index catch-up) is not the page's cost
    with QueryCounter(db.engine) as counter:
        assert client.get(url).status_code == 200
    return counter.count


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_article_page_uses_a_constant_number_of_queries(app, client, make_article, who, staff):
    app.config["PAGE_CACHE_SECONDS"] = 0  # measure the page itself, not the cache
    if who == "staff":
        login(client, staff)
    small = make_article(title="Small", tags=("a",))
    few = _queries_for(client, f"/articles/{small.slug}")
    many_tags = [f"tag-{n}" for n in range(12)]
    big = make_article(title="Big", tags=many_tags)
    for number in range(15):
        other = make_article(title=f"Sibling {number}", tags=many_tags[: number % 12 + 1])
        editing.record_feedback(big, number % 2 == 0, f"comment {number}", session_key=f"s{number}")
        editing.record_feedback(other, True, "", session_key=f"s{number}")
    db.session.commit()
    assert _queries_for(client, f"/articles/{big.slug}") == few
    assert few <= (8 if who == "staff" else 4)


def test_list_and_home_use_a_constant_number_of_queries(client, make_article):
    make_article(title="One", tags=("a",))
    few_list, few_home = _queries_for(client, "/articles/"), _queries_for(client, "/")
    for number in range(12):
        make_article(title=f"More {number}", tags=("a", "b", f"t{number}"))
    assert _queries_for(client, "/articles/") == few_list
    assert _queries_for(client, "/") == few_home


def test_feed_is_well_formed_atom_of_published_articles(client, published, draft):
    response = client.get("/feeds/articles.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Open the replication ports"]
    assert entries[0].find(f"{ATOM}id").text == "http://localhost/articles/open-the-replication-ports"
    assert '<h2 id="ports">' in entries[0].find(f"{ATOM}content").text


def test_feed_escapes_hostile_titles(client, make_article):
    make_article(title="Ports & <b>firewalls</b> ]]>", body="x < y & z")
    root = ET.fromstring(client.get("/feeds/articles.atom").data)
    assert root.find(f"{ATOM}entry/{ATOM}title").text == "Ports & <b>firewalls</b> ]]>"


def test_empty_feed_is_still_valid(client, app):
    ET.fromstring(client.get("/feeds/articles.atom").data)


def test_sitemap_lists_published_articles_and_categories(client, published, draft, category):
    root = ET.fromstring(client.get("/sitemap.xml").data)
    locations = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert "http://localhost/articles/open-the-replication-ports" in locations
    assert "http://localhost/categories/networking" in locations
    assert not any(draft.slug in loc for loc in locations)


def test_home_page_sections(client, make_article, other_category):
    popular = make_article(title="Everyone likes this")
    make_article(title="Second")
    for number in range(3):
        editing.record_feedback(popular, True, "", session_key=f"k{number}")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Browse by topic" in page
    assert re.search(r'href="/categories/networking">Networking</a></h3>\s*<p class="muted">2 articles</p>', page)
    assert re.search(r'href="/categories/upgrades">Upgrades</a></h3>\s*<p class="muted">0 articles</p>', page)
    popular_block = page.split("Most helpful articles")[1].split("</section>")[0]
    assert popular_block.index("Everyone likes this") < popular_block.index("Second")
    assert "Recently updated" in page


def test_nav_has_articles_for_everyone_and_review_for_staff(client, staff, published):
    assert '>Articles</a>' in client.get("/").get_data(as_text=True)
    assert "Needs review" not in client.get("/").get_data(as_text=True)
    login(client, staff)
    assert "Needs review" in client.get("/").get_data(as_text=True)


def test_search_documents(app, published, draft, category):
    from kb.articles.search_docs import all_article_ids, build_article_docs

    docs = build_article_docs([published.id, draft.id, 999])
    assert docs[draft.id] is None and docs[999] is None
    doc = docs[published.id]
    assert doc.kind == "article" and doc.url == "/articles/open-the-replication-ports"
    assert doc.title == "Open the replication ports" and "Open TCP 9071." in doc.body and "<" not in doc.body
    assert doc.headings == ["Ports"] and doc.tags == ["firewall", "ports"]
    assert doc.category == "networking" and doc.category_name == "Networking"
    assert doc.facets == {"article_type": ["how-to"], "versions": ["8.0"]} and doc.summary == "Which ports to open."
    assert all_article_ids() == [published.id]
    assert build_article_docs([]) == {}


# --- the anonymous page cache ---------------------------------------------------------------------


def test_cached_page_for_anonymous_readers_skips_the_database(app, client, published):
    url = f"/articles/{published.slug}"
    first = client.get(url).get_data(as_text=True)
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600
    with QueryCounter(db.engine) as counter:
        again = client.get(url).get_data(as_text=True)
    assert counter.count == 0
    assert again == first
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    with QueryCounter(db.engine) as counter:
        client.get(url)
    assert counter.count == 1  # only the freshness check


def test_cached_page_notices_changes_made_by_another_process(app, client, published, second_worker):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    url = f"/articles/{published.slug}"
    client.get(url)
    with second_worker.app_context():
        db.session.get(Article, published.id).html = "<p>New text.</p>"
        db.session.commit()
    assert "New text." in client.get(url).get_data(as_text=True)
    with second_worker.app_context():
        db.session.get(Article, published.id).status = ArticleStatus.ARCHIVED
        db.session.commit()
    assert client.get(url).status_code == 404


def test_changes_in_this_process_show_at_once(app, client, published, staff):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600
    url = f"/articles/{published.slug}"
    client.get(url)
    editing.apply_changes(published, title="Ports, revised", body="## Ports\n\nNew text.", category=published.category,
                          editor=staff)
    db.session.commit()
    assert "New text." in client.get(url).get_data(as_text=True)
    published.category.name = "Renamed category"
    db.session.commit()
    assert "Renamed category" in client.get(url).get_data(as_text=True)
    editing.archive(published)
    db.session.commit()
    assert client.get(url).status_code == 404


def test_cached_page_gives_each_visitor_their_own_csrf_token(app, published):
    from flask import g

    from kb.page_cache import CSRF_MARKER

    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/articles/{published.slug}"
    tokens = []
    for _ in range(2):
        # Test requests share the test's app context; a real request starts with an empty g.
        g.pop("csrf_token", None)
        visitor = app.test_client()
        page = visitor.get(url).get_data(as_text=True)
        assert CSRF_MARKER not in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        tokens.append(token)
        # The token works for this visitor's vote.
        response = visitor.post(f"{url}/feedback", data={"helpful": "yes", "csrf_token": token})
        assert response.status_code == 302
        g.pop("csrf_token", None)
    assert tokens[0] != tokens[1]
    db.session.refresh(published)
    assert published.helpful_yes == 2


def test_signed_in_readers_and_voters_are_never_served_the_shared_copy(app, client, published, customer):
    url = f"/articles/{published.slug}"
    client.get(url)
    client.post(f"{url}/feedback", data={"helpful": "no"})
    page = client.get(url).get_data(as_text=True)
    assert "You answered <strong>no</strong>" in page
    other = app.test_client()
    login(other, customer)
    assert "You answered" not in other.get(url).get_data(as_text=True)
    assert "You answered" not in app.test_client().get(url).get_data(as_text=True)


def test_staff_edit_shows_at_once_on_the_same_worker(app, client, published, staff):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600
    reader = app.test_client()
    url = f"/articles/{published.slug}"
    reader.get(url)
    login(client, staff)
    client.post(f"{url}/archive")
    assert reader.get(url).status_code == 404


def test_a_head_request_never_fills_the_cache_with_its_variant(app, client, published):
    """HEAD used to store a page whose sign-in link had lost its ``next``; GET readers then got it."""
    url = f"/articles/{published.slug}"
    assert client.head(url).status_code == 200
    page = client.get(url).get_data(as_text=True)
    assert f"/login?next={url}" in page.replace("%2F", "/")
    assert client.head(url).status_code == 200, "a HEAD may be answered from the cache"
    assert f"/login?next={url}" in app.test_client().get(url).get_data(as_text=True).replace("%2F", "/")


@pytest.fixture
def neighbours(make_article):
    """Two articles in each other's "Related" list (same category and tags)."""
    first = make_article(title="Open the replication ports", slug="open-ports")
    second = make_article(title="Check the firewall rules for replication", slug="firewall-rules")
    return first, second


def test_archiving_an_article_drops_it_from_cached_related_lists_at_once(app, client, neighbours, staff):
    first, second = neighbours
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600
    url = f"/articles/{first.slug}"
    assert second.title in client.get(url).get_data(as_text=True)
    editor = app.test_client()
    login(editor, staff)
    editor.post(f"/articles/{second.slug}/archive")
    assert second.title not in client.get(url).get_data(as_text=True)


def test_another_workers_status_change_reaches_cached_related_lists(app, client, neighbours, second_worker):
    first, second = neighbours
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    url = f"/articles/{first.slug}"
    assert second.title in client.get(url).get_data(as_text=True)
    with second_worker.app_context():
        db.session.get(Article, second.id).status = ArticleStatus.ARCHIVED
        db.session.commit()
    assert second.title not in client.get(url).get_data(as_text=True)
