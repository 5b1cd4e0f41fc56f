"""Search results, policy pages and static files: cached for signed-out visitors, conditional, versioned."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from kb.extensions import db
from kb.search import views as search_views
from kb.search.models import SearchQuery
from tests.conftest import login


def test_a_repeated_search_is_served_from_the_cache_and_still_counted(app, client, monkeypatch, customer):
    calls = []
    real = search_views.search
    monkeypatch.setattr(search_views, "search", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    pages = [client.get("/search?q=journal").get_data(as_text=True) for _ in range(3)]
    assert calls == ["journal"]
    assert db.session.scalar(select(func.count()).select_from(SearchQuery)) == 3
    assert all("kbfragment" not in page for page in pages)
    client.get("/search?q=replication")
    assert calls == ["journal", "replication"]
    member = app.test_client()
    login(member, customer)
    member.get("/search?q=journal")
    assert calls[-1] == "journal", "signed-in visitors search with their own visibility"


def test_search_cache_has_its_own_lifetime(app, client, monkeypatch):
    calls = []
    real = search_views.search
    monkeypatch.setattr(search_views, "search", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    app.config["SEARCH_PAGE_CACHE_SECONDS"] = 0
    client.get("/search?q=journal")
    client.get("/search?q=journal")
    assert calls == ["journal", "journal"]


def test_policy_pages_answer_304_to_a_matching_etag(client):
    for url in ("/severity", "/support", "/severity?data_loss=yes"):
        first = client.get(url)
        assert first.status_code == 200
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_versioned_static_files_are_kept_for_a_year(app, client):
    page = client.get("/support").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for unversioned in ("/static/css/site.css", "/static/css/site.css?v=0000000000"):
        response = client.get(unversioned)
        assert "immutable" not in response.headers.get("Cache-Control", ""), unversioned
    app.config["STATIC_CACHE_SECONDS"] = 600
    assert client.get(stylesheet).headers["Cache-Control"] == "public, max-age=600, immutable"


def test_the_page_cache_can_be_turned_off(app, client):
    from kb.page_cache import state

    app.config["PAGE_CACHE_SECONDS"] = 0
    client.get("/support")
    assert not state(app).store.entries



def test_the_search_rate_limit_holds_for_cached_results(app_config, tmp_path):
    from kb import create_app
    from tests.conftest import isolate_requests

    config = dict(app_config, RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="2 per minute")
    limited = isolate_requests(create_app(config, instance_path=str(tmp_path / "limited")))
    with limited.app_context():
        db.create_all()
    client = limited.test_client()
    assert [client.get("/search?q=journal").status_code for _ in range(3)] == [200, 200, 429]
