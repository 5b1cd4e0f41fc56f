"""Inputs that once ended in a 500 (the attack report's finding 8), each on SQLite and PostgreSQL.

Run with KB_TEST_DATABASE_URL set for PostgreSQL, which refuses NUL in text and 64-bit overflows
where SQLite is lenient; each test also checks what a user would see, so it fails on SQLite too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.extensions import db
from tests.security.conftest import record

HUGE = str(2**70)  # beyond 64 bits
CONTROLS = "\x00\x01\x07\x08\x0b\x1b[31m\x7f\x85\x9b"


def stored(world, model, **where):
    with world.app.app_context():
        row = db.session.scalar(select(model).filter_by(**where))
        db.session.expunge_all()
        db.session.remove()
        return row


def no_controls(*values: str) -> bool:
    return not any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", value or "") for value in values)


def test_nul_and_controls_in_the_display_name_are_dropped(world):
    from kb.accounts.models import User

    client = world.client("colleague")
    response = client.post("/account", data={"action": "profile", "profile-display_name": f"Carol{CONTROLS} Acme",
                                             "profile-timezone": "Europe/London"})
    assert response.status_code == 302
    assert stored(world, User, id=world.ids["colleague"]).display_name == "Carol [31m Acme"


@pytest.mark.parametrize("invisible", ["\u202e", "\u2066", "\u200f", "\u200b", "\u200d", "\u2060", "\ufeff", "\u061c"])
def test_display_names_drop_bidi_and_zero_width_controls(world, invisible):
    from kb.accounts.models import User

    response = world.client("colleague").post("/account", data={
        "action": "profile", "profile-display_name": f"Car{invisible}ol A{invisible}cme",
        "profile-timezone": "Europe/London"})
    assert response.status_code == 302
    assert stored(world, User, id=world.ids["colleague"]).display_name == "Carol Acme"


@pytest.mark.parametrize("name", ["Support", "HarborSync support team", "ADMIN", "S.u.p.p.o.r.t", "Sup\u200bport",
                                  "Ｓｔａｆｆ", "Moderator Mia"])
def test_customers_cannot_take_staff_looking_names(world, name):
    from kb.accounts.models import User

    before = stored(world, User, id=world.ids["colleague"]).display_name
    response = world.client("colleague").post("/account", data={
        "action": "profile", "profile-display_name": name, "profile-timezone": "Europe/London"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "kept for the support team" in page
    assert stored(world, User, id=world.ids["colleague"]).display_name == before
    register = world.app.test_client().post("/register", data={
        "email": "lookalike@example.org", "display_name": name, "password": "a long enough passphrase",
        "confirm": "a long enough passphrase"})
    assert register.status_code == 400 and "kept for the support team" in register.get_data(as_text=True)


def test_staff_keep_their_support_names_and_customers_keep_ordinary_ones(world):
    staff = world.client("staff").post("/account", data={
        "action": "profile", "profile-display_name": "Sam Support", "profile-timezone": "UTC"})
    assert staff.status_code == 302
    customer = world.client("colleague").post("/account", data={
        "action": "profile", "profile-display_name": "Carol Staffordshire", "profile-timezone": "Europe/London"})
    assert customer.status_code == 302


def test_nul_in_token_name(world):
    from kb.accounts.models import ApiToken

    response = world.client("colleague").post("/account", data={"action": "token", "token-name": "laptop\x00 token"})
    assert response.status_code == 200
    assert stored(world, ApiToken, name="laptop token") is not None


def test_nul_in_registration(world):
    from kb.accounts.models import User

    client = world.app.test_client()
    response = client.post("/register", data={"email": "nul\x00person@example.org", "display_name": "Nul\x00 Person",
                                              "password": "a long enough passphrase",
                                              "confirm": "a long enough passphrase"})
    assert response.status_code == 302
    user = stored(world, User, email="nulperson@example.org")
    assert user is not None and user.display_name == "Nul Person"
    client.post("/logout")


def test_nul_in_anonymous_article_feedback(world):
    from kb.articles.models import Feedback

    client = world.app.test_client()
    response = client.post("/articles/public-heron-guide/feedback",
                           data={"helpful": "no", "comment": "Step\x00 two\x1b is\r\nunclear"})
    assert response.status_code == 302
    assert stored(world, Feedback, comment="Step two is\r\nunclear") is not None


def test_nul_in_every_article_field(world):
    from kb.articles.models import Article

    response = world.client("staff").post("/articles/new", data={
        "title": "Nul\x00 heron title", "slug": "nul-heron", "summary": "A\x00 summary\x01.", "type": "how-to",
        "category": "0", "tags": "heron\x00,nul", "versions": "", "message": "First\x00 version",
        "body": "Body\x00 text\x0c here.", "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    article = stored(world, Article, slug="nul-heron")
    assert article.title == "Nul heron title" and article.summary == "A summary."
    assert no_controls(article.body, article.plain_text, article.html)


def _paginated_pages(world) -> list[tuple[str, str]]:
    thread = world.values("forums.thread", "own")["thread_id"]
    return [
        ("anonymous", "/articles/"), ("anonymous", "/categories/heron-topics"),
        ("anonymous", "/forums/getting-started/"), ("anonymous", f"/threads/{thread}"),
        ("customer", "/cases/"), ("customer", "/notifications"), ("staff", "/staff/queue"),
        ("staff", "/moderation/"), ("admin", "/admin/users"), ("staff", "/articles/"),
    ]


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "9" * 5000, "0", "１２"])
def test_page_numbers_beyond_any_column_are_clamped(world, value):
    for role, path in _paginated_pages(world):
        response = world.client(role).get(path, query_string={"page": value})
        record("hostile_int_requests")
        assert response.status_code == 200, f"{role} {path}?page={value[:30]} -> {response.status_code}"


def test_quote_and_revision_ids_beyond_64_bits(world):
    thread = world.values("forums.thread", "own")["thread_id"]
    reply = world.client("customer").get(f"/threads/{thread}/reply", query_string={"quote": HUGE})
    assert reply.status_code == 200 and "Your reply" in reply.get_data(as_text=True)
    history = world.client("staff").get("/articles/public-heron-guide/history", query_string={"to": HUGE, "from": HUGE})
    assert history.status_code in (200, 404)


@pytest.mark.parametrize("hostile", [{"_method": "POST"}, {"_scheme": "javascript"}, {"_anchor": "x\"><b>"},
                                     {"_external": "1"}, {"slug": "another-category"}])
def test_query_keys_never_reach_url_for(world, monkeypatch, hostile):
    """Pagers and canonical links copy the query string; url_for's own options and URL parts stay out of it."""
    for key in ("PER_PAGE", "FORUMS_THREADS_PER_PAGE", "FORUMS_POSTS_PER_PAGE"):
        monkeypatch.setitem(world.app.config, key, 1)
    for role, path in _paginated_pages(world):
        response = world.client(role).get(path, query_string={**hostile, "page": "1", "q": "x"})
        assert response.status_code == 200, f"{role} {path}?{hostile} -> {response.status_code}"
        page = response.get_data(as_text=True)
        links = re.findall(r'<a rel="next" href="([^"]*)"', page)
        assert all("javascript" not in link and "#" not in link and link.startswith(path) for link in links), links
    pager = world.client("staff").get("/articles/", query_string=hostile).get_data(as_text=True)
    assert 'rel="next"' in pager, "the staff article list has two articles, so a pager at one per page"
    category = world.client("anonymous").get("/forums/getting-started/", query_string=hostile).get_data(as_text=True)
    assert 'rel="next" href="/forums/getting-started/?' in category


def test_search_pager_and_facets_ignore_underscore_keys(world):
    response = world.client("anonymous").get("/search", query_string={"q": "heron", "_method": "POST",
                                                                      "_scheme": "javascript"})
    assert response.status_code == 200


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud800\\ud800"])
def test_api_json_with_a_lone_surrogate_is_a_400(world, escape):
    body = f'{{"title": "Lone {escape} surrogate in replication", "severity": 4, "description": "x {escape} y"}}'
    response = world.app.test_client().post("/api/v1/cases", data=body.encode("ascii"),
                                            headers={"Authorization": f"Bearer {world.tokens['customer']}",
                                                     "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "lone surrogate" in response.get_json()["error"]["message"]


def test_a_proper_surrogate_pair_is_accepted(world):
    body = '{"title": "Emoji \\ud83d\\ude00 in a case title", "severity": 4, "description": "Pairs are fine.", ' \
           '"business_impact": "None", "environment": "Lab", "product_version": "8.0"}'
    response = world.app.test_client().post("/api/v1/cases", data=body.encode("ascii"),
                                            headers={"Authorization": f"Bearer {world.tokens['customer']}",
                                                     "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("position", [HUGE, str(2**31), str(2**63), "-5"])
def test_an_oversized_category_position_is_a_form_error(world, position):
    response = world.client("admin").post("/moderation/categories/new", data={
        "name": "Overflow topics", "slug": "overflow-topics", "description": "", "position": position,
        "read_access": "everyone", "post_access": "users"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "position must be a whole number from 0 to 2,147,483,647" in page
    assert "Overflow topics" in page, "what was typed is kept"


@pytest.mark.parametrize("path", ["/search", "/search/suggest", "/admin/users", "/articles/", "/forums/getting-started/",
                                  "/staff/queue"])
def test_nul_in_the_query_string_is_dropped(world, path):
    for args in ({"q": "heron\x00 guide"}, {"tag": "a\x00"}, {"filter\x00": "x"}):
        response = world.client("admin").get(path, query_string=args)
        assert response.status_code == 200, f"{path} {args!r} -> {response.status_code}"


def test_a_nul_dropped_from_the_query_still_finds(world):
    page = world.client("admin").get("/admin/users", query_string={"q": "car\x00ol"}).get_data(as_text=True)
    assert "carol@acme.example" in page and "bob@globex.example" not in page


@pytest.mark.parametrize("path", ["/articles/public-heron%00-guide", "/categories/heron%00", "/forums/getting%00/"])
def test_nul_in_the_path_is_a_clear_400(world, path):
    response = world.client("anonymous").get(path)
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
