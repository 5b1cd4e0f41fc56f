"""deploy/: nginx lets the pages that take an image receive one, and only those pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
UNITS = {"m": 1024 * 1024, "k": 1024, "g": 1024 ** 3}
IMAGE_PAGES = ["/articles/new", "/articles/pair-sites/edit", "/articles/images", "/forums/new", "/forums/networking/new",
               "/forums/images", "/threads/12/reply", "/posts/34/edit"]


def _image_location() -> tuple[re.Pattern, int]:
    conf = (DEPLOY / "nginx-kb.conf").read_text()
    for pattern, body in re.findall(r"location ~ (\S+) \{([^}]*)\}", conf):
        if "/images" in pattern:
            number, unit = re.search(r"client_max_body_size\s+(\d+)([kmg]?);", body).groups()
            return re.compile(pattern), int(number) * UNITS.get(unit, 1)
    pytest.fail("nginx-kb.conf has no location for the pages that take images")


def test_nginx_gives_the_image_pages_room_for_one_image(app):
    from kb.images import body_limit

    location, size = _image_location()
    assert all(location.match(path) for path in IMAGE_PAGES)
    with app.test_request_context("/forums/images", method="POST", content_type="multipart/form-data; boundary=x"):
        assert size == body_limit() == app.config["MAX_CONTENT_LENGTH"] + app.config["IMAGE_MAX_BYTES"]


@pytest.mark.parametrize("path", ["/articles/new/extra", "/threads/12", "/forums/networking/", "/cases/new", "/login"])
def test_other_pages_keep_the_usual_limit(path):
    location, _ = _image_location()
    assert not location.match(path)


def test_the_image_endpoints_are_the_ones_nginx_lists(app):
    """Every endpoint that accepts an image has its path in the nginx location (a new one must be added)."""
    location, _ = _image_location()
    endpoints = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    accepted = {name for name, limit in app.extensions["kb_upload_routes"].items() if limit.__module__ == "kb.images"}
    assert accepted == {"articles.new", "articles.edit", "articles.upload_image", "forums.new_thread", "forums.ask",
                        "forums.reply", "forums.edit_post", "forums.upload_image"}
    for name in accepted:
        rule = endpoints[name]
        path = re.sub(r"<int:\w+>", "7", re.sub(r"<(?:string:)?\w+>", "some-slug", rule.rule))
        assert location.match(path), path
