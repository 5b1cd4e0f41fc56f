"""Finding real pages to visit: by the app's URL map and by following the site's own links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.e2e.support import e2e_required


class SiteMap:
    """Answers "is this URL served yet?" and "which real object page can I open?"."""

    def __init__(self, server):
        self.server = server
        self.app = server.app()
        self.adapter = self.app.url_map.bind("127.0.0.1")

    def serves(self, path: str, method: str = "GET") -> bool:
        try:
            self.adapter.match(urlsplit(path).path, method=method)
        except (NotFound, MethodNotAllowed):
            return False
        return True

    def require(self, path: str, feature: str, method: str = "GET") -> None:
        """Skip a test whose feature has not been built into the app yet (in CI: fail, a route vanished)."""
        if not self.serves(path, method):
            message = f"{feature} is not built yet ({method} {path} is not a route)"
            if e2e_required():
                pytest.fail(f"KB_REQUIRE_E2E=1: {message}", pytrace=False)
            pytest.skip(message)

    def endpoint_for(self, path: str, method: str = "GET") -> str | None:
        try:
            endpoint, _ = self.adapter.match(urlsplit(path).path, method=method)
        except (NotFound, MethodNotAllowed):
            return None
        return endpoint


def links(page, pattern: str) -> list[str]:
    """Same-site link paths on the current page matching a regular expression, in page order."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        path = urlsplit(href).path if href.startswith("http") else href.split("#")[0]
        if re.fullmatch(pattern, path) and path not in found:
            found.append(path)
    return found


def first_link(page, listing: str, pattern: str, what: str) -> str:
    page.goto(listing)
    found = links(page, pattern)
    assert found, f"no {what} linked from {listing}"
    return found[0]


ARTICLE_LINK = r"/articles/(?!new$)[A-Za-z0-9_-]+"
CATEGORY_LINK = r"/forums/[A-Za-z0-9_-]+/"
THREAD_LINK = r"/threads/\d+(-[A-Za-z0-9_-]*|/[A-Za-z0-9_-]*)?"
CASE_LINK = r"/cases/(?!new$)[A-Za-z0-9_-]+"
