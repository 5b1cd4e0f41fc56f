"""Naughty strings rendered in a real browser: no injected script runs, on any page that shows them.

The pages are opened with the Content-Security-Policy bypassed on purpose: the CSP is the second
line of defence, and this test checks the first one (escaping and sanitizing). alert, confirm and
prompt are replaced before any page script runs; any call, any real dialog, any inline <script> or
on*= attribute in the live DOM (after the site's own JavaScript has run) is a failure.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import E2E_STATS
from tests.e2e.support import FormClient, naughty_strings

pytestmark = pytest.mark.e2e

TAG_LIKE = re.compile(r"<[A-Za-z!/?]")
HOOKS = """
(() => {
  window.__dialogs = [];
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = (...args) => { window.__dialogs.push(name + '(' + args.map(String).join(', ') + ')'); return null; };
  }
})();
"""
DOM_CHECK = """() => {
  const problems = [...(window.__dialogs || [])];
  for (const s of document.querySelectorAll('script')) {
    if (!s.src || new URL(s.src).origin !== location.origin || !new URL(s.src).pathname.startsWith('/static/'))
      problems.push('script element: ' + s.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) problems.push('handler ' + a.name + ' on <' + el.tagName.toLowerCase() + '>');
      if (['href', 'src', 'action', 'formaction'].includes(a.name) && /^\\s*(javascript|vbscript|data:text)/i.test(a.value))
        problems.push(a.name + '=' + a.value.slice(0, 60));
    }
  }
  for (const tag of ['iframe', 'object', 'embed', 'base']) {
    if (document.querySelector(tag)) problems.push('<' + tag + '> element');
  }
  return problems;
}"""


def spaced(items: list, count: int) -> list:
    step = max(1, len(items) / count)
    return [items[int(i * step)] for i in range(min(count, len(items)))]


@pytest.fixture(scope="session")
def naughty_site(live_server, site):
    """Threads, replies, a case and display names made of naughty strings, on the live server."""
    vectors = naughty_strings()
    made = {"threads": [], "case": None, "reply_thread": None, "vectors": vectors}
    customer = FormClient(live_server).login("customer")
    if site.serves("/forums/getting-started/new", "POST"):
        bodies = ["\n\n".join(vectors[i:i + 8]) for i in range(0, len(vectors), 8)]
        for vector, body in zip(spaced(vectors, len(bodies)), bodies):
            response = customer.post("/forums/getting-started/new", {
                "title": f"{vector} naughty", "body": body, "tags": "", "action": "post"})
            if response.status_code == 302:
                made["threads"].append(re.search(r"/threads/\d+[^?#]*", response.headers["Location"]).group(0))
        assert made["threads"], "the forum accepted none of the naughty threads"
        made["reply_thread"] = made["threads"][0]
        number = re.search(r"\d+", made["reply_thread"]).group(0)
        for body in bodies:
            customer.post(f"/threads/{number}/reply", {"body": body, "action": "post"},
                          form_page=made["reply_thread"])
    if site.serves("/cases/new", "POST"):
        response = customer.post("/cases/new", {
            "title": vectors[0] + " naughty", "severity": "4", "description": "\n\n".join(vectors[:60]),
            "business_impact": vectors[1], "environment": vectors[2], "product_version": "8.0", "action": "open"})
        if response.status_code == 302:
            made["case"] = re.search(r"/cases/\d+", response.headers["Location"]).group(0)
            for start in range(60, len(vectors), 40):
                customer.post(made["case"] + "/comment", {"comment-body": "\n\n".join(vectors[start:start + 40])},
                              form_page=made["case"], token_field="comment-csrf_token")
    _naughty_users(live_server, spaced([v for v in vectors if len(v) <= 80], 60))
    return made


def _naughty_users(live_server, names: list[str]) -> None:
    """Accounts whose display names are naughty strings, for the admin user list."""
    from werkzeug.security import generate_password_hash

    from kb.accounts.models import Role, User
    from kb.extensions import db

    app = live_server.app()
    hashed = generate_password_hash("not used for signing in")
    with app.app_context():
        for number, name in enumerate(names):
            db.session.add(User(email=f"naughty{number}@example.org", display_name=name, password_hash=hashed,
                                role=Role.CUSTOMER, timezone="UTC"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Inspector:
    """Opens pages with the hooks installed and collects every sign of executed or injected script."""

    def __init__(self, browsing, role):
        context = browsing.context(role, bypass_csp=True)
        if not getattr(context, "_kb_hooked", False):
            context.add_init_script(HOOKS)
            context._kb_hooked = True
        self.page = browsing.page(role, bypass_csp=True)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)
        self.problems: list[str] = []
        self.pages = 0

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}({dialog.message})")
        dialog.dismiss()

    def visit(self, path: str) -> int:
        response = self.page.goto(path, wait_until="load")
        status = response.status if response else 0
        if status >= 500:
            self.problems.append(f"{path} -> {status}")
        self.inspect(path)
        return status

    def inspect(self, where: str) -> None:
        self.page.wait_for_timeout(50)
        found = self.page.evaluate(DOM_CHECK) + self.dialogs
        self.dialogs.clear()
        self.pages += 1
        if found:
            self.problems.append(f"{where}: {found[:5]}")


def test_no_injected_script_runs_on_pages_showing_naughty_strings(browsing, site, naughty_site):
    inspectors = []
    anonymous = Inspector(browsing, None)
    inspectors.append(anonymous)
    for path in naughty_site["threads"]:
        anonymous.visit(path)
    if naughty_site["reply_thread"]:
        for number in range(1, 30):
            if anonymous.visit(f"{naughty_site['reply_thread']}?page={number}") != 200:
                break
        for number in range(1, 10):
            if anonymous.visit(f"/forums/getting-started/?page={number}") != 200:
                break
        anonymous.visit("/forums/")
        anonymous.visit("/")
    if site.serves("/search"):
        anonymous.visit("/search?q=naughty")
        anonymous.visit("/search?q=naughty&page=2")
        anonymous.page.goto("/")
        box = anonymous.page.locator("#home-q")
        for word in ("naug", "naughty", "script", "alert", "img"):
            box.fill("")
            box.press_sequentially(word, delay=10)
            anonymous.page.wait_for_timeout(400)
            anonymous.inspect(f"type-ahead for {word!r}")
    customer = Inspector(browsing, "customer")
    inspectors.append(customer)
    if naughty_site["case"]:
        customer.visit(naughty_site["case"])
        customer.visit("/cases/")
    customer.visit("/account")
    if site.serves("/forums/getting-started/new"):
        customer.page.goto("/forums/getting-started/new")
        title = customer.page.locator("input[name=title]")
        for word in ("naughty script", "alert naughty"):
            title.fill("")
            title.press_sequentially(word, delay=10)
            customer.page.wait_for_timeout(700)
            customer.inspect(f"deflection for {word!r}")
    staff = Inspector(browsing, "staff")
    inspectors.append(staff)
    if naughty_site["case"]:
        staff.visit(naughty_site["case"])
        staff.visit("/staff/queue")
    if site.serves("/moderation/"):
        staff.visit("/moderation/")
    admin = Inspector(browsing, "admin")
    inspectors.append(admin)
    for number in range(1, 5):
        if admin.visit(f"/admin/users?page={number}") != 200:
            break
    admin.visit("/admin/users?q=naughty")
    problems = [p for i in inspectors for p in i.problems]
    E2E_STATS["browser_vectors"] = len(naughty_site["vectors"])
    E2E_STATS["browser_pages"] += sum(i.pages for i in inspectors)
    assert not problems, "script ran or was injected:\n" + "\n".join(problems[:30])


def test_reflected_naughty_strings_run_no_script(browsing, site):
    """Search terms come back in the page (the box, the heading): every markup-like string, in the browser."""
    site.require("/search", "Search")
    inspector = Inspector(browsing, None)
    vectors = [v for v in naughty_strings() if TAG_LIKE.search(v) or "javascript" in v.lower()]
    from urllib.parse import quote

    for vector in spaced(vectors, 80):
        inspector.visit("/search?q=" + quote(vector, safe=""))
    E2E_STATS["browser_pages"] += inspector.pages
    assert not inspector.problems, "script ran or was injected:\n" + "\n".join(inspector.problems[:30])


def test_the_inspector_catches_a_script_that_runs(browsing, live_server):
    """The positive control: a page that does run injected script is reported."""
    inspector = Inspector(browsing, None)
    inspector.page.route("**/__xss-probe", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<p>probe</p><img src=/nothing onerror=alert(document.domain)>"))
    inspector.visit("/__xss-probe")
    assert any("alert(" in problem for problem in inspector.problems), inspector.problems
    assert any("handler onerror" in problem for problem in inspector.problems), inspector.problems
