"""Browser fixtures: one live server and one headless Chromium per run, a logged-in context per role."""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.e2e.pages import SiteMap
from tests.e2e.support import (
    ARTIFACTS,
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    FormClient,
    make_live_server,
    missing_prerequisite,
)

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # without Playwright the browser fixture skips (or fails in CI) before any page exists
    PlaywrightError = OSError

E2E_STATS: Counter = Counter()
_LIVE_NOTES: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every test in this folder drives the browser: mark it so `-m 'not e2e'` leaves it out."""
    for item in items:
        if "/tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The site in a real server process, set up by ``kb init`` and ``kb create-user``."""
    server = make_live_server(tmp_path_factory.mktemp("live-instance"))
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    _LIVE_NOTES.extend(server.notes)
    yield server
    server.stop()


class Seeded:
    """Objects every browser test may open: a forum thread and a case by the Acme customer."""

    category_path = "/forums/getting-started/"
    thread_title = "Replication stalls at 40 percent after pairing"
    case_title = "Failover test leaves VMs without network"
    thread_path: str = ""
    case_path: str = ""


@pytest.fixture(scope="session")
def seeded(live_server, site):
    """Made once per run over plain HTTP through the site's own forms (CSRF tokens included)."""
    made = Seeded()
    customer = FormClient(live_server).login("customer")
    if site.serves(made.category_path + "new", "POST"):
        response = customer.post(made.category_path + "new", {
            "title": made.thread_title, "tags": "", "action": "post",
            "body": "After pairing the sites, replication stops at 40 percent. What should I check first?"})
        assert response.status_code == 302, f"could not start a thread: {response.status_code}"
        made.thread_path = urlsplit(response.headers["Location"]).path
    if site.serves("/cases/new", "POST"):
        response = customer.post("/cases/new", {
            "title": made.case_title, "severity": "3", "product_version": "8.0", "product_build": "",
            "description": "During a failover test the recovered VMs come up with no network adapter.",
            "business_impact": "Our quarterly DR test is blocked.", "environment": "Two sites, vSphere 8"})
        assert response.status_code == 302, f"could not open a case: {response.status_code}"
        made.case_path = urlsplit(response.headers["Location"]).path
    return made


@pytest.fixture(scope="session")
def site(live_server):
    """The live app's URL map: which features exist, and where a path leads."""
    return SiteMap(live_server)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download does not work here)."""
    if not CHROMIUM.exists():
        missing_prerequisite(f"Chromium ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_prerequisite("The Playwright Python package")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        missing_prerequisite(f"A working Chromium ({exc.__class__.__name__}: {str(exc)[:200]})")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        missing_prerequisite("axe-core (tests/e2e/node_modules/axe-core/axe.min.js)")
    return AXE_JS.read_text(encoding="utf-8")


class PageWatch:
    """Collects what went wrong inside the page: script errors, CSP refusals, failed requests."""

    def __init__(self):
        self.errors: list[str] = []

    def attach(self, page):
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)
        return page

    def _console(self, message):
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.errors.append(f"CSP: {text}")


_open_pages: list = []


def sign_in(page, base_url: str, account) -> None:
    """Log in through the real form."""
    page.goto(base_url + "/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/login" not in page.url, f"login failed for {account.email}: {page.url}"


class Browsing:
    """Opens pages for a role; contexts are kept for the whole run, pages are per test."""

    def __init__(self, browser, server):
        self.browser = browser
        self.server = server
        self._contexts: dict[tuple, object] = {}

    def context(self, role: str | None = None, *, bypass_csp: bool = False, fresh: bool = False):
        key = (role, bypass_csp)
        if not fresh and key in self._contexts:
            return self._contexts[key]
        context = self.browser.new_context(base_url=self.server.base_url, bypass_csp=bypass_csp,
                                           viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        if role is not None:
            page = context.new_page()
            sign_in(page, self.server.base_url, self.server.accounts[role])
            page.close()
        if not fresh:
            self._contexts[key] = context
        return context

    def page(self, role: str | None = None, *, bypass_csp: bool = False, fresh: bool = False, watch=None):
        page = self.context(role, bypass_csp=bypass_csp, fresh=fresh).new_page()
        _open_pages.append(page)
        if watch is not None:
            watch.attach(page)
        return page

    def close(self):
        for context in self._contexts.values():
            context.close()


@pytest.fixture(scope="session")
def browsing(browser, live_server):
    session = Browsing(browser, live_server)
    yield session
    session.close()


@pytest.fixture
def watch():
    return PageWatch()


@pytest.fixture(autouse=True)
def _close_pages():
    yield
    while _open_pages:
        page = _open_pages.pop()
        with contextlib.suppress(PlaywrightError):
            page.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, keep a screenshot and the HTML of every page the test had open."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])[:120]
    for number, page in enumerate(list(_open_pages)):
        try:
            if page.is_closed():
                continue
            name = f"{stem}-{number}"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            (ARTIFACTS / f"{name}.html").write_text(f"<!-- {page.url} -->\n" + page.content(), encoding="utf-8")
        except (PlaywrightError, OSError) as exc:
            (ARTIFACTS / f"{stem}-{number}.error.txt").write_text(str(exc))


def run_axe(page, axe_source: str) -> list[dict]:
    """Inject axe-core and return its violations (WCAG 2.x A/AA plus best practices)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return result


def format_violations(violations: list[dict]) -> str:
    return json.dumps(violations, indent=2, ensure_ascii=False)


def pytest_terminal_summary(terminalreporter):
    if not E2E_STATS and not _LIVE_NOTES:
        return
    terminalreporter.section("browser suite")
    labels = {
        "journeys": "journeys run",
        "a11y_audits": "page x viewport accessibility audits (axe-core)",
        "a11y_pages": "distinct pages audited",
        "a11y_minor": "moderate or minor axe findings (reported, not failing)",
        "browser_vectors": "naughty strings rendered in the browser",
        "browser_pages": "pages checked for injected script (alert/confirm/prompt hooks)",
    }
    for key, label in labels.items():
        if E2E_STATS.get(key):
            terminalreporter.write_line(f"{label}: {E2E_STATS[key]}")
    for note in _LIVE_NOTES:
        terminalreporter.write_line(f"live server note: {note}")
