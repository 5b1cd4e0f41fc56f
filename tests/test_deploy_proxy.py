"""Behind a reverse proxy: forged Host headers, KB_SITE_URL as the one source of absolute links, client addresses."""

from __future__ import annotations

import logging
import re

import pytest
from flask import url_for

from kb import create_app
from kb.articles import editing
from kb.config import ConfigError
from kb.extensions import db
from tests.conftest import isolate_requests

SITE = "https://support.example.com"


def _app(app_config, tmp_path, name: str, **overrides):
    app_config.update(overrides)
    return isolate_requests(create_app(app_config, instance_path=str(tmp_path / name)))


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"Host": "support.example.com", "X-Forwarded-Host": "evil.example"}],
)
def test_reset_requested_with_a_forged_host_is_refused_and_mails_nothing(app, customer, mail_outbox, headers):
    app.config.update(SITE_URL=SITE, TRUSTED_HOSTS=["support.example.com"])
    response = app.test_client().post("/reset-password", data={"email": customer.email}, headers=headers)
    assert response.status_code in (302, 400)
    for message in mail_outbox:
        assert "evil.example" not in message.get_body(("plain",)).get_content()


def test_forged_host_gets_400_when_site_url_names_the_host(app_config, tmp_path, customer):
    app = _app(app_config, tmp_path, "trusted", SITE_URL=SITE, PROXY_HOPS=1)
    assert app.config["TRUSTED_HOSTS"] == ["support.example.com"]
    client = app.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"X-Forwarded-Host": "evil.example"}, base_url=SITE).status_code == 400
    assert client.get("/", base_url=SITE).status_code == 200


def test_reset_link_uses_site_url_whatever_host_the_request_named(app, customer, mail_outbox):
    # Another trusted name (an internal one the proxy uses) still never ends up in a mailed link.
    app.config.update(SITE_URL=SITE, TRUSTED_HOSTS=["support.example.com", "kb-internal"])
    response = app.test_client().post(
        "/reset-password", data={"email": customer.email}, headers={"Host": "kb-internal:8000"}
    )
    assert response.status_code == 302
    body = mail_outbox[0].get_body(("plain",)).get_content()
    assert re.search(r"https://support\.example\.com/reset-password/\S+", body)
    assert "kb-internal" not in body


def test_feeds_sitemap_robots_and_canonical_links_use_site_url(app):
    app.config.update(SITE_URL=SITE + "/")
    editing.create_article(title="Replication lag", body="Why replicas lag.", summary="Lag.", type="how-to",
                           category=None, tags=(), versions=(), status="published", author=None,
                           slug="replication-lag")
    db.session.commit()
    client = app.test_client()
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {SITE}/sitemap.xml" in robots
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"<loc>{SITE}/articles/replication-lag</loc>" in sitemap
    assert "localhost" not in sitemap
    feed = client.get("/feeds/articles.atom").get_data(as_text=True)
    assert f"{SITE}/articles/replication-lag" in feed and "localhost" not in feed
    page = client.get("/articles/replication-lag").get_data(as_text=True)
    assert f'<link rel="canonical" href="{SITE}/articles/replication-lag">' in page


def test_without_site_url_links_follow_the_request(app):
    with app.test_request_context("/", base_url="http://kb.local:8080"):
        assert url_for("site.sitemap", _external=True) == "http://kb.local:8080/sitemap.xml"
        assert url_for("site.sitemap") == "/sitemap.xml"


def test_links_built_outside_a_request_use_site_url(app):
    app.config.update(SITE_URL="https://example.org/help")
    with app.app_context():
        assert url_for("site.sitemap") == "https://example.org/help/sitemap.xml"
    with app.test_request_context("/", base_url="http://other.local"):
        assert url_for("site.sitemap", _external=True, _anchor="top") == "https://example.org/help/sitemap.xml#top"
        assert url_for("site.sitemap", _external=True, _scheme="http") == "http://example.org/help/sitemap.xml"
        assert url_for("site.sitemap") == "/sitemap.xml"


def _login_codes(client, forwarded_for: str | None, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [
        client.post("/login", data={"email": "a@example.com", "password": "bad"}, headers=headers).status_code
        for _ in range(count)
    ]


def test_behind_one_proxy_each_client_has_its_own_login_bucket(app_config, tmp_path):
    app = _app(app_config, tmp_path, "hops1", PROXY_HOPS=1, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        db.create_all()
        client = app.test_client()
        first = _login_codes(client, "203.0.113.7", 4)
        assert 429 not in first[:3] and first[3] == 429  # one client is limited…
        assert 429 not in _login_codes(client, "198.51.100.9", 3)  # …and another behind the same proxy is not
        db.session.remove()


def test_without_trusted_proxies_forwarded_for_does_not_escape_the_limit(app_config, tmp_path):
    app = _app(app_config, tmp_path, "hops0", RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        db.create_all()
        client = app.test_client()
        codes = [_login_codes(client, f"192.0.2.{n}", 1)[0] for n in range(1, 6)]
        assert codes[3:] == [429, 429]
        db.session.remove()


def test_production_without_site_url_warns_at_start_up(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(
            {"ENV": "production", "SECRET_KEY": "k", "RATELIMIT_SINGLE_PROCESS": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
            instance_path=str(tmp_path / "prod"),
        )
    assert "KB_SITE_URL is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(
            {"ENV": "production", "SECRET_KEY": "k", "RATELIMIT_SINGLE_PROCESS": True, "SITE_URL": SITE,
             "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
            instance_path=str(tmp_path / "prod"),
        )
    assert "KB_SITE_URL is not set" not in caplog.text


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SITE_URL": "support.example.com"}, "KB_SITE_URL must look like"),
        ({"SITE_URL": "ftp://support.example.com"}, "KB_SITE_URL must look like"),
        ({"PROXY_HOPS": "two"}, "KB_PROXY_HOPS must be a whole number"),
        ({"PROXY_HOPS": -1}, "KB_PROXY_HOPS cannot be negative"),
    ],
)
def test_bad_proxy_settings_are_refused_with_a_clear_message(app_config, tmp_path, overrides, message):
    app_config.update(overrides)
    with pytest.raises(ConfigError, match=message):
        create_app(app_config, instance_path=str(tmp_path / "bad"))


def test_trusted_hosts_from_the_environment(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_TRUSTED_HOSTS", "support.example.com, kb.internal")
    app = _app(app_config, tmp_path, "env")
    assert app.config["TRUSTED_HOSTS"] == ["support.example.com", "kb.internal"]
    assert app.test_client().get("/healthz", headers={"Host": "kb.internal"}).status_code != 400
    assert app.test_client().get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_site_url_set_after_the_app_context_began_still_builds_links(app):
    app.config.update(SITE_URL=SITE)
    assert url_for("site.sitemap") == f"{SITE}/sitemap.xml"


def test_links_follow_the_path_prefix_the_proxy_names_on_each_request(app, app_config, tmp_path):
    """A site served under /support by one proxy and at / by another: the header's links (built once
    per prefix) name the prefix each request came through."""
    app = _app(app_config, tmp_path, "prefixed", SITE_URL=SITE, PROXY_HOPS=1, TRUSTED_HOSTS=["support.example.com"])
    client = app.test_client()
    for prefix in ("/support", "", "/support"):
        page = client.get("/", base_url=SITE, headers={"X-Forwarded-Prefix": prefix} if prefix else {})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f'href="{prefix}/articles/"' in html and f'href="{prefix}/severity"' in html
        assert ('href="/articles/"' in html) == (prefix == "")
