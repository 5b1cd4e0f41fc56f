"""Every count and rate the knowledge base uses is a config key; these tests change each one."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest

from kb.page_cache.store import Entry, PageStore
from kb.types import utcnow
from tests.conftest import login


@pytest.fixture
def many(make_article):
    return [make_article(title=f"Port guide {n}", tags=("ports",)) for n in range(6)]


def test_related_count(app, client, many):
    app.config.update(ARTICLE_RELATED_COUNT=2, PAGE_CACHE_SECONDS=0)
    page = client.get(f"/articles/{many[0].slug}").get_data(as_text=True)
    related = page.split('id="related-heading"')[1].split("</aside>")[0]
    assert related.count("<li>") == 2


def test_feed_count(app, client, many):
    app.config["ARTICLE_FEED_COUNT"] = 3
    root = ET.fromstring(client.get("/feeds/articles.atom").data)
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 3


def test_home_counts(app, client, many):
    app.config.update(HOME_POPULAR_COUNT=2, HOME_RECENT_COUNT=4)
    page = client.get("/").get_data(as_text=True)
    popular = page.split("Most helpful articles")[1].split("</section>")[0]
    recent = page.split("Recently updated")[1].split("</section>")[0]
    assert popular.count("<li>") == 2 and recent.count("<li>") == 4


def test_page_cache_size_and_ttl():
    cache = PageStore(size=2)
    for key, lasts in (("a", 60), ("b", -1), ("c", 60)):
        cache.put(key, Entry(body=key, mimetype="text/html", counters={"articles": 1},
                             expires=time.monotonic() + lasts, modified=utcnow(), etag=key, csrf=False))
    assert list(cache.entries) == ["b", "c"]
    assert cache.get("b", {"articles": 1}) is None  # expired
    assert cache.get("c", {"articles": 2}) is None  # its kind changed since
    assert list(cache.entries) == []


def test_page_cache_can_be_turned_off(app, client, many):
    from kb.page_cache import state

    app.config["PAGE_CACHE_SECONDS"] = 0
    client.get(f"/articles/{many[0].slug}")
    assert not state(app).store.entries


@pytest.fixture
def strict_preview(app_config):
    app_config.update(RATELIMIT_ENABLED=True, ARTICLE_PREVIEW_RATE_LIMIT="2 per minute")


def test_preview_rate_limit(strict_preview, client, staff):
    login(client, staff)
    codes = [client.post("/articles/preview", data={"body": "x"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_preview_button_refuses_a_body_over_the_limit(app, client, staff):
    app.config["ARTICLE_BODY_MAX_LENGTH"] = 20
    login(client, staff)
    response = client.post("/articles/new", data={"title": "T", "body": "y" * 21, "action": "preview", "type": "how-to",
                                                  "category": "0"})
    assert response.status_code == 400
    assert re.search(r"The body can be at most 20 characters", response.get_data(as_text=True))
