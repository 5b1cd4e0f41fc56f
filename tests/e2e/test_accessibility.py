"""axe-core on every key page, at desktop and phone width: no serious or critical violations."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E_STATS, format_violations, run_axe
from tests.e2e.pages import ARTICLE_LINK, CATEGORY_LINK, first_link

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
AUDITED_PAGES: set[str] = set()


def _article(ctx):
    ctx.site.require("/articles/x", "Articles")
    return first_link(ctx.page, "/articles/", ARTICLE_LINK, "article")


def _category(ctx):
    ctx.site.require("/forums/", "Forums")
    return first_link(ctx.page, "/forums/", CATEGORY_LINK, "forum category")


def _thread(ctx):
    ctx.site.require("/threads/1", "Forum threads")
    return ctx.seeded.thread_path


def _new_thread(ctx):
    ctx.site.require("/forums/", "Forums")
    return ctx.seeded.category_path + "new"


def _case(ctx):
    ctx.site.require("/cases/1", "Cases")
    return ctx.seeded.case_path


# name -> (role that views it, path or a function finding a real one)
KEY_PAGES = {
    "home": (None, "/"),
    "login": (None, "/login"),
    "register": (None, "/register"),
    "account": ("customer", "/account"),
    "article": (None, _article),
    "search results": (None, "/search?q=replication"),
    "forum index": (None, "/forums/"),
    "forum category": (None, _category),
    "thread": (None, _thread),
    "new thread": ("customer", _new_thread),
    "case form": ("customer", "/cases/new"),
    "case page": ("customer", _case),
    "severity": (None, "/severity"),
    "sitemap": (None, "/sitemap"),
}


def _history(ctx):
    ctx.site.require("/articles/x/history", "Article history")
    return first_link(ctx.page, "/articles/", ARTICLE_LINK, "article") + "/history"


# Pages staff and admins work in all day, and the rest of the public pages.
MORE_PAGES = {
    "support plans": (None, "/support"),
    "reset password": (None, "/reset-password"),
    "article editor": ("staff", "/articles/new"),
    "article history": ("staff", _history),
    "staff queue": ("staff", "/staff/queue"),
    "moderation queue": ("staff", "/moderation/"),
    "search analytics": ("staff", "/staff/search-analytics"),
    "admin users": ("admin", "/admin/users"),
    "admin organisations": ("admin", "/admin/organizations"),
    "admin mail outbox": ("admin", "/admin/mail"),
}
PAGES = {**KEY_PAGES, **MORE_PAGES}
# Every page at both widths: the phone layout (menu button, scroll boxes, Filter) is audited as well.
CASES = [(name, viewport) for name in PAGES for viewport in VIEWPORTS]


class _Ctx:
    def __init__(self, page, site, request):
        self.page = page
        self.site = site
        self._request = request

    @property
    def seeded(self):
        return self._request.getfixturevalue("seeded")


@pytest.mark.parametrize(("name", "viewport"), CASES)
def test_no_serious_accessibility_violations(name, viewport, browsing, site, axe_source, request):
    role, where = PAGES[name]
    page = browsing.page(role, bypass_csp=True)
    if isinstance(where, str):
        site.require(where, name)
        path = where
    else:
        path = where(_Ctx(page, site, request))
    page.set_viewport_size(VIEWPORTS[viewport])
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    violations = run_axe(page, axe_source)
    E2E_STATS["a11y_audits"] += 1
    AUDITED_PAGES.add(name)
    E2E_STATS["a11y_pages"] = len(AUDITED_PAGES)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    E2E_STATS["a11y_minor"] += len(violations) - len(serious)
    assert not serious, f"{name} ({path}, {viewport}) has serious accessibility problems:\n{format_violations(serious)}"
