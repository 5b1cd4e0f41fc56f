"""One slugify for every title, and addresses built the same way in a request and outside one."""

from __future__ import annotations

import pytest

from kb.articles.editing import unique_slug
from kb.urls import build_url, slugify


@pytest.mark.parametrize(("title", "slug"), [
    ("Fail back, fast!  Über-Gruppe", "fail-back-fast-uber-gruppe"),
    ("Репликация остановлена", "replikatsiia-ostanovlena"),
    ("复制停止了", "fu-zhi-ting-zhi-liao"),
    ("!!!", ""),
])
def test_slugify_keeps_titles_in_any_script_readable(title, slug):
    assert slugify(title) == slug


def test_a_cyrillic_article_title_gets_its_own_slug_not_article(app):
    with app.app_context():
        assert unique_slug("Настройка журнала") == "nastroika-zhurnala"


def test_urls_build_outside_a_request_like_inside_one(app):
    app.config["SITE_URL"] = "https://support.example.com"
    with app.app_context():
        assert build_url("articles.show", slug="x") == "/articles/x"
        assert build_url("articles.show", slug="x", external=True) == "https://support.example.com/articles/x"
    with app.test_request_context("/"):
        assert build_url("articles.show", slug="x") == "/articles/x"
