"""Search analytics: queries and clicks are recorded, staff see what to write next."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from kb.extensions import db
from kb.search import analytics
from kb.search.models import SearchClick, SearchQuery
from tests.conftest import login
from tests.search.notes import add_note


@pytest.fixture
def notes_app(search_app):
    add_note("Sizing journals", "Journal size equals change rate times history.")
    return search_app


def test_each_search_records_its_normalised_query(notes_app, client):
    client.get("/search?q=  Sizing   JOURNALS ")
    client.get("/search?q=sizing+journals&page=1")
    client.get("/search?q=sizing+journals&page=2")
    client.get("/search?q=zebra+stripes")
    rows = db.session.execute(select(SearchQuery.query, SearchQuery.result_count).order_by(SearchQuery.id)).all()
    assert [tuple(r) for r in rows] == [("sizing journals", 1), ("sizing journals", 1), ("zebra stripes", 0)]


def test_analytics_query_length_is_capped(notes_app, client):
    notes_app.config["SEARCH_ANALYTICS_QUERY_MAX_LENGTH"] = 10
    client.get("/search?q=" + "a" * 50)
    assert db.session.scalar(select(SearchQuery.query)) == "a" * 10


def test_analytics_can_be_turned_off(notes_app, client):
    notes_app.config["SEARCH_ANALYTICS_ENABLED"] = False
    client.get("/search?q=journal")
    assert analytics.flush(notes_app) == 0
    assert db.session.scalar(select(db.func.count(SearchQuery.id))) == 0


def test_click_is_recorded_for_its_search_and_redirects_same_site_only(notes_app, client):
    notes_app.config["SEARCH_ANALYTICS_FLUSH_SECONDS"] = 60
    client.get("/search?q=zebra")
    html = client.get("/search?q=Journal").get_data(as_text=True)
    assert "/search/click?url=/notes/1&amp;q=Journal&amp;pos=1" in html
    # At once, before the batch of searches is due: the click still finds its search.
    response = client.get("/search/click?url=/notes/1&q=Journal&pos=1")
    assert response.status_code == 302 and response.headers["Location"] == "/notes/1"
    click = db.session.scalars(select(SearchClick)).one()
    journal = db.session.scalar(select(SearchQuery.id).where(SearchQuery.query == "journal"))
    assert (click.query_id, click.url, click.position) == (journal, "/notes/1", 1)
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = client.get("/search/click", query_string={"url": bad, "q": "journal"})
        assert response.status_code == 302 and response.headers["Location"] == "/search"
    assert db.session.scalar(select(db.func.count(SearchClick.id))) == 1
    client.get("/search/click?url=/notes/1&q=never+searched&pos=abc")
    assert db.session.scalars(select(SearchClick).order_by(SearchClick.id.desc())).first().query_id is None


def test_searches_are_written_in_batches(notes_app, client):
    """Counting a search costs no write of its own: a batch goes in after
    SEARCH_ANALYTICS_FLUSH_SECONDS, or at once when SEARCH_ANALYTICS_BATCH searches wait."""
    notes_app.config.update(SEARCH_ANALYTICS_FLUSH_SECONDS=0.3, SEARCH_ANALYTICS_BATCH=4)
    counted = lambda: db.session.scalar(select(func.count()).select_from(SearchQuery))  # noqa: E731
    for word in ("journal", "sizing", "history"):
        client.get(f"/search?q={word}")
    assert counted() == 0
    deadline = time.monotonic() + 5
    while counted() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted() == 3
    for word in ("one", "two", "three", "four"):
        client.get(f"/search?q={word}")
    assert counted() == 7


def test_broken_analytics_never_break_a_search(notes_app, client):
    db.session.execute(text("DROP TABLE search_clicks"))
    db.session.execute(text("DROP TABLE search_queries"))
    db.session.commit()
    response = client.get("/search?q=journal")
    assert response.status_code == 200 and b"Sizing journals" in response.data
    assert client.get("/search/click?url=/notes/1&q=journal").status_code == 302


@pytest.mark.parametrize("role, status", [(None, 302), ("customer", 403), ("staff", 200), ("admin", 200)])
def test_analytics_page_is_staff_only(notes_app, client, make_user, role, status):
    if role:
        login(client, make_user(role))
    assert client.get("/staff/search-analytics").status_code == status


def test_analytics_page_lists_top_zero_and_unopened_queries(notes_app, client, staff):
    notes_app.config["SEARCH_ANALYTICS_FLUSH_SECONDS"] = 60  # the report writes what is pending first
    for _ in range(3):
        client.get("/search?q=journal")
    client.get("/search?q=sizing")
    client.get("/search?q=zebra+stripes")
    client.get("/search/click?url=/notes/1&q=journal&pos=1")
    old = SearchQuery(query="ancient query", result_count=0, created=SearchQuery.created.default.arg(None) - timedelta(days=200))
    db.session.add(old)
    db.session.commit()
    login(client, staff)
    html = client.get("/staff/search-analytics?period=30d").get_data(as_text=True)
    top, rest = html.split("Queries that found nothing", 1)
    zero, unopened = rest.split("Queries whose results nobody opened", 1)
    assert top.index("journal") < top.index("sizing")
    assert "zebra stripes" in zero and "/articles/new?title=zebra+stripes" in zero
    assert "sizing" in unopened and ">journal<" not in unopened
    assert "ancient query" not in html
    assert "ancient query" in client.get("/staff/search-analytics?period=365d").get_data(as_text=True)
    assert client.get("/staff/search-analytics?period=bogus").status_code == 200


@pytest.fixture
def limited_search(app_config):
    app_config.update(RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="2 per minute", SEARCH_CLICK_RATE_LIMIT="2 per minute")


def test_search_and_clicks_are_rate_limited(limited_search, notes_app, client):
    """Anyone could fill the staff analytics with chosen text; now each address has a budget."""
    assert [client.get("/search?q=journal").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/search/click?url=/notes/1&q=journal").status_code for _ in range(3)] == [302, 302, 429]
    assert db.session.scalar(select(db.func.count(SearchClick.id))) == 2
