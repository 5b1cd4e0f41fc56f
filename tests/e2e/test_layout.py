"""The layout a visitor meets on a phone and on a desktop: nothing wider than the screen, a header
that fits, search results first, and the small page helpers (copy, contents, type-ahead)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with how to install it
    expect = None

from tests.e2e.pages import ARTICLE_LINK, CATEGORY_LINK, first_link
from tests.e2e.support import FormClient

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What users paste: one unbroken 300-character log line and a table of twelve columns.
LOG_LINE = "2026-11-30T02:14:07Z appliance-b repl[4121]: " + "ERR_JOURNAL_FULL:" + "x" * 240
TABLE = "\n".join([
    "| " + " | ".join(f"column {n} heading" for n in range(1, 13)) + " |",
    "|" + "---|" * 12,
    "| " + " | ".join(f"value-{n}-with-some-width" for n in range(1, 13)) + " |",
])
WIDE_BODY = f"The appliance log says:\n\n```\n{LOG_LINE}\n```\n\nand the journal table:\n\n{TABLE}\n\nUnbroken: {LOG_LINE}\n"


class Wide:
    thread_path = ""
    case_path = ""


@pytest.fixture(scope="module")
def wide(live_server, site):
    """A thread and a case holding the long log line and the wide table, and a long-named API token."""
    made = Wide()
    customer = FormClient(live_server).login("customer")
    if site.serves("/forums/getting-started/new", "POST"):
        response = customer.post("/forums/getting-started/new", {
            "title": "Replication stops with a very long journal error line", "tags": "", "action": "post",
            "body": WIDE_BODY})
        assert response.status_code == 302, f"could not start a thread: {response.status_code}"
        made.thread_path = urlsplit(response.headers["Location"]).path
    if site.serves("/cases/new", "POST"):
        response = customer.post("/cases/new", {
            "title": "Journal full error with a long log line", "severity": "3", "product_version": "8.0",
            "product_build": "", "description": WIDE_BODY, "business_impact": "Replication to site B is paused.",
            "environment": "Two sites, vSphere 8"})
        assert response.status_code == 302, f"could not open a case: {response.status_code}"
        made.case_path = urlsplit(response.headers["Location"]).path
    response = customer.post("/account", {"action": "token", "token-name": "Replication appliance at Site B " + "long-name-" * 4},
                  token_field="token-csrf_token")
    assert response.status_code == 200 and "copy it now" in response.text, "could not create an API token"
    return made


def _article(page):
    return first_link(page, "/articles/", ARTICLE_LINK, "article")


def _kb_category(page):
    return first_link(page, "/", r"/categories/[A-Za-z0-9_-]+", "knowledge-base category")


def _forum_category(page):
    return first_link(page, "/forums/", CATEGORY_LINK, "forum category")


# name -> (role, path or a function of (page, wide) finding a real one)
MAIN_PAGES = {
    "home": (None, "/"),
    "login": (None, "/login"),
    "articles list": (None, "/articles/"),
    "article": (None, lambda page, wide: _article(page)),
    "category": (None, lambda page, wide: _kb_category(page)),
    "forums index": (None, "/forums/"),
    "forum category": (None, lambda page, wide: _forum_category(page)),
    "thread with a wide post": (None, lambda page, wide: wide.thread_path),
    "search results": (None, "/search?q=journal"),
    "case with a wide description": ("customer", lambda page, wide: wide.case_path),
    "cases list": ("customer", "/cases/"),
    "new case": ("customer", "/cases/new"),
    "staff queue": ("staff", "/staff/queue"),
    "account with tokens": ("customer", "/account"),
    "severity": (None, "/severity"),
    "support": (None, "/support"),
    "staff case view": ("staff", lambda page, wide: wide.case_path),
    "search analytics": ("staff", "/staff/search-analytics"),
}


@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_no_page_is_wider_than_a_phone(name, browsing, site, wide):
    role, where = MAIN_PAGES[name]
    page = browsing.page(role)
    path = where if isinstance(where, str) else where(page, wide)
    if not path:
        pytest.skip(f"{name}: the feature that makes it is not built")
    site.require(path, name)
    page.set_viewport_size(PHONE)
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        culprits = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => { for (let p = e.parentElement; p; p = p.parentElement) {
                if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return false; } return true; })
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        pytest.fail(f"{name} ({path}) is {widths[0]} px wide on a {widths[1]} px screen; too wide: {culprits}")


def test_wide_code_and_tables_scroll_inside_their_own_box(browsing, wide):
    if not wide.thread_path:
        pytest.skip("forums are not built")
    page = browsing.page()
    page.set_viewport_size(PHONE)
    page.goto(wide.thread_path)
    selectors = [".user-content pre"] + ([".user-content table"] if page.locator(".user-content table").count() else [])
    for selector in selectors:
        box = page.locator(selector).first
        scroll, client, tabindex = box.evaluate("e => [e.scrollWidth, e.clientWidth, e.getAttribute('tabindex')]")
        assert scroll > client, f"{selector} should scroll sideways inside itself"
        assert tabindex == "0", f"{selector} must be reachable by keyboard to scroll it"


@pytest.mark.parametrize("role", ["customer", "staff", "admin"])
def test_signed_in_header_is_one_row_on_a_desktop(role, browsing):
    page = browsing.page(role)
    page.set_viewport_size(DESKTOP)
    page.goto("/articles/")
    tops = page.evaluate("""() => [...document.querySelectorAll(
        '.header-row > .brand, .main-nav li, .header-search, .account-menu > summary')]
        .filter(e => e.offsetParent !== null).map(e => {
            const r = e.getBoundingClientRect(); return [r.top + r.height / 2, e.className || e.tagName]; })""")
    assert len(tops) >= 5
    middles = [middle for middle, _ in tops]
    widths = page.evaluate("""() => [...document.querySelectorAll('.header-row > *, .site-menu > *')]
        .map(e => e.className + ' ' + Math.round(e.getBoundingClientRect().width))""")
    assert max(middles) - min(middles) < 12, f"header items sit on more than one row: {tops} {widths}"
    height = page.locator(".site-header").evaluate("e => e.getBoundingClientRect().height")
    assert height <= 64, f"the header is {height} px tall"
    menu = page.locator(".account-menu")
    menu.locator("summary").click()
    for name in ("Notifications", "Profile and settings", "API tokens", "Sign out"):
        expect(menu.get_by_text(name, exact=False).first).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu.locator(".account-menu-list")).to_be_hidden()


def test_phone_header_is_short_and_its_menu_button_opens_the_navigation(browsing):
    page = browsing.page("customer")
    page.set_viewport_size(PHONE)
    page.goto("/articles/")
    header = page.locator(".site-header")
    assert header.evaluate("e => e.getBoundingClientRect().height") <= 64
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".main-nav")).to_be_hidden()
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".main-nav").get_by_role("link", name="Community")).to_be_visible()
    expect(page.locator("#header-q")).to_be_visible()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")


def test_without_script_the_phone_header_lists_its_links(browser, live_server):
    context = browser.new_context(base_url=live_server.base_url, java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/articles/")
        expect(page.locator(".menu-toggle")).to_be_hidden()
        expect(page.locator(".main-nav").get_by_role("link", name="Community")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()


def test_first_search_result_is_above_the_fold_on_a_phone(browsing, site):
    site.require("/search", "Search")
    page = browsing.page()
    page.set_viewport_size(PHONE)
    page.goto("/search?q=journal")
    first = page.locator("ol.result-list li.result").first
    expect(first).to_be_visible()
    top = first.evaluate("e => e.getBoundingClientRect().top")
    assert top < PHONE["height"], f"the first result starts {top} px down"
    facets = page.locator("details.search-facets")
    assert facets.evaluate("e => e.open") is False
    page.locator("details.search-facets > summary").click()
    expect(facets.locator(".facet").first).to_be_visible()


def test_filters_start_open_on_a_desktop(browsing):
    page = browsing.page()
    page.set_viewport_size(DESKTOP)
    page.goto("/search?q=journal")
    expect(page.locator("details.search-facets .facet").first).to_be_visible()


def test_type_ahead_ends_with_search_for_and_the_keyboard_reaches_it(browsing, site):
    site.require("/search/suggest", "Type-ahead")
    page = browsing.page()
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    box = page.locator("#home-q")
    box.press_sequentially("journal", delay=30)
    options = page.locator(f"#{box.get_attribute('aria-controls')} [role=option]")
    expect(options.last).to_have_text("Search for \u2018journal\u2019")
    box.press("ArrowUp")  # from the top, up wraps round to the last row
    assert box.get_attribute("aria-activedescendant") == options.last.get_attribute("id")
    with page.expect_navigation():
        box.press("Enter")
    assert "/search?" in page.url and "q=journal" in page.url


def test_code_blocks_have_a_copy_button(browser, live_server):
    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base_url)
    try:
        page = context.new_page()
        page.goto("/articles/")
        found = None
        for path in page.eval_on_selector_all("a[href^='/articles/']", "els => els.map(e => e.getAttribute('href'))"):
            if path.count("/") == 2 and not path.endswith("/new"):
                page.goto(path)
                if page.locator(".article-body pre").count():
                    found = path
                    break
        assert found, "no article with a code block"
        button = page.get_by_role("button", name="Copy code to clipboard").first
        expect(button).to_be_visible()
        button.click()
        expect(button).to_have_text("Copied")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.strip() and copied.strip() in page.locator(".article-body pre").first.inner_text()
    finally:
        context.close()


def test_contents_number_steps_once(browsing, site):
    site.require("/articles/x", "Articles")
    page = browsing.page()
    page.goto("/articles/planning-a-deployment")
    toc = page.locator("nav.toc li", has_text="Decide site roles").first
    expect(toc).to_have_text("1. Decide site roles")
    assert toc.evaluate("e => getComputedStyle(e).listStyleType") == "none"


def test_revoking_a_token_asks_first(browsing, wide):
    page = browsing.page("customer")
    page.set_viewport_size(DESKTOP)
    page.goto("/account")
    rows = page.locator("#tokens tbody tr")
    before = rows.count()
    assert before >= 1
    page.once("dialog", lambda dialog: dialog.dismiss())
    rows.first.get_by_role("button", name="Revoke").click()
    page.wait_for_timeout(300)
    assert page.url.endswith("/account") and rows.count() == before


def test_type_ahead_shows_the_excerpt_an_engine_gives(browsing):
    """The engine may add an ``excerpt`` to each suggestion; the dropdown shows it under the title."""
    page = browsing.page()
    page.set_viewport_size(PHONE)
    page.route("**/search/suggest?*", lambda route: route.fulfill(json={"suggestions": [
        {"title": "Journal full on the recovery site", "url": "/articles/journal-full", "kind": "article",
         "excerpt": "When the journal reaches its hard limit, replication pauses"}]}))
    page.goto("/")
    box = page.locator("#home-q")
    box.press_sequentially("journal full", delay=20)
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    expect(listbox.locator(".suggest-excerpt")).to_have_text("When the journal reaches its hard limit, replication pauses")
    expect(listbox.locator("[role=option]").last).to_have_text("Search for \u2018journal full\u2019")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    box.press("ArrowDown")
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.endswith("/articles/journal-full")
