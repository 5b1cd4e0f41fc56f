"""The Big List of Naughty Strings through every text field a user controls.

For each string: no 500; the answer (and the page that shows the saved text) contains nothing that
could run script (no <script> not from /static/, no on*= handlers, no javascript: links, no style=);
plain-text fields come back escaped, never as raw markup.
"""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from tests.e2e.support import naughty_strings
from tests.security.conftest import SECURITY_STATS, record
from tests.security.world import feature_exists, unsafe_markup

TAG_LIKE = re.compile(r"<[A-Za-z!/?]")


@pytest.fixture(scope="module")
def vectors():
    strings = naughty_strings()
    SECURITY_STATS["naughty_vectors"] = len(strings)
    return strings


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 90 else text[:87] + "..."


class Checker:
    """Collects problems across many submissions so one run reports them all."""

    def __init__(self, field: str):
        self.field = field
        self.problems: list[str] = []
        self.count = 0

    def response(self, response, submitted: str | None, *, plain: bool, where: str) -> None:
        self.count += 1
        if response.status_code >= 500:
            self.problems.append(f"{where} -> {response.status_code} for {_short(submitted)}")
            return
        if response.mimetype != "text/html":
            return
        body = response.get_data(as_text=True)
        unsafe = unsafe_markup(body)
        if unsafe:
            self.problems.append(f"{where}: unsafe markup {unsafe[:2]} for {_short(submitted)}")
        if plain and submitted and TAG_LIKE.search(submitted) and submitted.strip() in body:
            self.problems.append(f"{where}: {_short(submitted)} comes back unescaped")

    def shown(self, body: str, stored: str, where: str) -> None:
        """The saved text appears on its page, escaped exactly once."""
        if stored and stored.strip() and str(escape(stored)) not in body:
            self.problems.append(f"{where}: saved text {_short(stored)} is not shown escaped")

    def verdict(self) -> None:
        record("naughty_submissions", self.count)
        assert not self.problems, f"{self.field}: {len(self.problems)} problems:\n" + "\n".join(self.problems[:40])


def spaced(vectors: list[str], count: int) -> list[str]:
    """``count`` strings spread evenly over the list (for fields where each save is expensive)."""
    if len(vectors) <= count:
        return list(vectors)
    step = len(vectors) / count
    return [vectors[int(i * step)] for i in range(count)]


def chunks(vectors: list[str], size: int) -> list[str]:
    """Every string, several to a text: Markdown fields see the whole list in few saves."""
    return ["\n\n".join(vectors[i:i + size]) for i in range(0, len(vectors), size)]


def _title(vector: str, minimum: int = 8) -> str:
    return vector if len(vector.strip()) >= minimum else f"{vector} (naughty title)"


def test_profile_display_name(world, vectors):
    from kb.accounts.models import User
    from kb.extensions import db

    check = Checker("profile display name")
    client = world.client("colleague")
    for vector in vectors:
        response = client.post("/account", data={"action": "profile", "profile-display_name": vector,
                                                 "profile-timezone": "Europe/London"})
        check.response(response, vector, plain=True, where="POST /account")
        if response.status_code == 302:
            page = client.get("/account")
            check.response(page, vector, plain=True, where="GET /account")
            with world.app.app_context():
                stored = db.session.get(User, world.ids["colleague"]).display_name
            check.shown(page.get_data(as_text=True), stored, "GET /account")
    check.verdict()


def test_register_display_name_and_email(world, vectors):
    """Registration hashes a password each time, so this takes 50 strings spread over the list."""
    check = Checker("register")
    client = world.app.test_client()
    chosen = spaced(vectors, 50)
    for number, vector in enumerate(chosen):
        response = client.post("/register", data={"email": f"naughty{number}@example.org", "display_name": vector,
                                                  "password": "a long enough passphrase",
                                                  "confirm": "a long enough passphrase"})
        check.response(response, vector, plain=True, where="POST /register")
        if response.status_code == 302:
            check.response(client.get("/"), vector, plain=True, where="GET / after register")
            client.post("/logout")
        bad_email = client.post("/register", data={"email": vector, "display_name": "x", "password": "short",
                                                   "confirm": "other"})
        check.response(bad_email, vector, plain=True, where="POST /register (email)")
    check.verdict()


def test_api_token_name(world, vectors):
    check = Checker("API token name")
    client = world.client("colleague")
    for vector in vectors[:19]:
        response = client.post("/account", data={"action": "token", "token-name": vector})
        check.response(response, vector, plain=True, where="POST /account (token)")
    check.verdict()


def test_search_box_and_suggestions(world, vectors):
    if not feature_exists("kb.search.views"):
        pytest.skip("search is not built yet")
    check = Checker("search")
    client = world.client("anonymous")
    for vector in vectors:
        check.response(client.get("/search", query_string={"q": vector}), vector, plain=True, where="GET /search")
        suggest = client.get("/search/suggest", query_string={"q": vector})
        check.response(suggest, vector, plain=True, where="GET /search/suggest")
        if suggest.status_code == 200 and suggest.mimetype != "application/json":
            check.problems.append(f"/search/suggest answered {suggest.mimetype} for {vector!r}")
    check.verdict()


def test_forum_thread_title_body_and_reply(world, vectors):
    """Every string as a title on the composer; 60 saved threads; every string in bodies and replies."""
    if not feature_exists("kb.forums.views"):
        pytest.skip("forums are not built yet")
    check = Checker("forum thread and reply")
    client = world.client("customer")
    for vector in vectors:
        title = _title(vector)
        response = client.post("/forums/getting-started/new", data={"title": title, "body": vector, "tags": "",
                                                                    "action": "check"})
        check.response(response, title, plain=True, where="POST new thread (check for answers)")
    bodies = chunks(vectors, 8)
    thread_id = None
    for vector, body in zip(spaced(vectors, len(bodies)), bodies):
        title = _title(vector)
        response = client.post("/forums/getting-started/new", data={"title": title, "body": body, "tags": "",
                                                                    "action": "post"})
        check.response(response, title, plain=True, where="POST new thread")
        if response.status_code == 302:
            location = response.headers["Location"]
            thread_id = thread_id or re.search(r"/threads/(\d+)", location).group(1)
            check.response(client.get(location), title, plain=True, where=f"GET {location}")
        if thread_id:
            reply = client.post(f"/threads/{thread_id}/reply", data={"body": body, "action": "post"})
            check.response(reply, None, plain=False, where="POST reply")
    assert thread_id, "no naughty thread was accepted at all"
    for page in range(1, 20):
        listing = client.get(f"/forums/getting-started/?page={page}")
        check.response(listing, None, plain=False, where=f"category page {page}")
        thread = client.get(f"/threads/{thread_id}?page={page}")
        check.response(thread, None, plain=False, where=f"thread page {page}")
        if thread.status_code != 200 and listing.status_code != 200:
            break
    check.verdict()


def test_case_title_description_and_comment(world, vectors):
    """Every string as a title on the form; 60 saved cases; every string in descriptions and comments."""
    if not feature_exists("kb.cases.views"):
        pytest.skip("cases are not built yet")
    check = Checker("case title, description and comment")
    client = world.client("customer")
    for vector in vectors:
        response = client.post("/cases/new", data={"title": vector, "description": vector, "action": "suggest",
                                                   "production_down": "no"})
        check.response(response, vector, plain=True, where="POST /cases/new (suggest)")
    bodies = chunks(vectors, 8)
    first = None
    for vector, body in zip(spaced(vectors, len(bodies)), bodies):
        response = client.post("/cases/new", data={"title": vector, "severity": "4", "description": body,
                                                   "business_impact": vector, "environment": vector,
                                                   "product_version": vector[:20], "product_build": "",
                                                   "action": "open"})
        check.response(response, vector, plain=True, where="POST /cases/new")
        if response.status_code == 302:
            location = response.headers["Location"]
            first = first or location
            check.response(client.get(location), vector, plain=True, where=f"GET {location}")
        if first:
            comment = client.post(first + "/comment", data={"comment-body": body})
            check.response(comment, None, plain=False, where="POST comment")
    assert first, "no naughty case was accepted at all"
    for url, role in (("/cases/", "customer"), ("/staff/queue", "staff"), (first, "customer"), (first, "staff")):
        check.response(world.client(role).get(url), None, plain=False, where=f"{role} GET {url}")
    check.verdict()


def test_api_case_fields(world, vectors):
    if not feature_exists("kb.cases.api"):
        pytest.skip("the cases API is not built yet")
    check = Checker("API case fields")
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['customer']}"}
    for vector in spaced(vectors, 120):
        response = client.post("/api/v1/cases", headers=headers, json={
            "title": vector, "description": vector, "severity": 4, "environment": vector, "business_impact": vector})
        check.count += 1
        if response.status_code >= 500 or response.mimetype != "application/json":
            check.problems.append(f"POST /api/v1/cases -> {response.status_code} {response.mimetype} for {vector!r}")
            continue
        if response.status_code == 201:
            created = client.get(response.headers["Location"], headers=headers)
            if created.get_json().get("title") != vector.strip():
                check.problems.append(f"API round trip changed the title {vector!r} -> {created.get_json().get('title')!r}")
            number = created.get_json().get("number")
            page = world.client("customer").get(f"/cases/{number}")
            check.response(page, vector, plain=True, where=f"GET /cases/{number} (from API)")
    check.verdict()


def test_article_feedback_comment(world, vectors):
    if not feature_exists("kb.articles.views"):
        pytest.skip("articles are not built yet")
    check = Checker("article feedback comment")
    slug = world.values("articles.show", "public")["slug"]
    anonymous = world.app.test_client()
    for vector in spaced(vectors, 120):
        response = anonymous.post(f"/articles/{slug}/feedback", data={"helpful": "no", "comment": vector})
        check.response(response, vector, plain=True, where="POST feedback")
    check.response(world.client("staff").get(f"/articles/{slug}"), None, plain=False, where="staff article page")
    check.verdict()


LINE_BREAKERS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r", "\n", "\r\n", "\t"]


def test_line_breaking_characters_in_titles_that_reach_email_subjects(world):
    """str.splitlines() breaks on more than \\r and \\n; a title copied into a Subject header must not 500."""
    check = Checker("line-breaking characters in titles")
    headers = {"Authorization": f"Bearer {world.tokens['customer']}"}
    for char in LINE_BREAKERS:
        title = f"Replication{char}stopped{char}Bcc: victim@example.org"
        if feature_exists("kb.cases.api"):
            response = world.app.test_client().post("/api/v1/cases", headers=headers, json={
                "title": title, "description": "It stopped.", "severity": 3})
            check.count += 1
            if response.status_code >= 500:
                check.problems.append(f"POST /api/v1/cases -> {response.status_code} for title {title!r}")
        if feature_exists("kb.cases.views"):
            response = world.client("customer").post("/cases/new", data={
                "title": title, "severity": "3", "description": "It stopped.", "action": "open"})
            check.response(response, title, plain=True, where="POST /cases/new")
        if feature_exists("kb.forums.views"):
            response = world.client("customer").post("/forums/getting-started/new", data={
                "title": title, "body": "It stopped.", "tags": "", "action": "post"})
            check.response(response, title, plain=True, where="POST new thread")
    check.verdict()


def test_staff_article_fields(world, vectors):
    """Staff are users too: article title, summary, tags, change note and body (staff allowlist)."""
    if not feature_exists("kb.articles.views"):
        pytest.skip("articles are not built yet")
    check = Checker("article fields")
    client = world.client("staff")
    bodies = chunks(vectors, 12)
    for vector, body in zip(spaced(vectors, len(bodies)), bodies):
        response = client.post("/articles/new", data={
            "title": vector, "summary": vector, "body": body, "tags": "", "versions": "",
            "message": vector, "type": "how-to", "category": "0", "action": "publish"})
        check.response(response, vector, plain=True, where="POST /articles/new")
        if response.status_code == 302:
            location = response.headers["Location"]
            check.response(client.get(location), vector, plain=True, where=f"GET {location}")
            check.response(world.client("anonymous").get(location), vector, plain=True,
                           where=f"anonymous GET {location}")
    for vector in spaced(vectors, 40):
        response = client.post("/articles/new", data={"title": "Tags test", "body": "x", "tags": vector,
                                                      "versions": vector, "type": "how-to", "category": "0"})
        check.response(response, vector, plain=True, where="POST /articles/new (tags, versions)")
    preview = client.post("/articles/preview", data={"body": "\n\n".join(vectors[:80])})
    check.response(preview, None, plain=False, where="POST /articles/preview")
    for url in ("/articles/", "/feeds/articles.atom", "/sitemap.xml", "/"):
        check.response(world.client("anonymous").get(url), None, plain=False, where=f"GET {url}")
    check.verdict()


def test_admin_organisation_name(world, vectors):
    check = Checker("organisation name")
    client = world.client("admin")
    for vector in spaced(vectors, 60):
        response = client.post("/admin/organizations", data={"name": vector, "plan": "standard",
                                                             "timezone": "UTC", "holidays": ""})
        check.response(response, vector, plain=True, where="POST /admin/organizations")
        response = client.post("/admin/organizations", data={"name": "Holiday test", "plan": "standard",
                                                             "timezone": vector, "holidays": vector})
        check.response(response, vector, plain=True, where="POST /admin/organizations (timezone, holidays)")
    check.response(client.get("/admin/organizations"), None, plain=False, where="GET /admin/organizations")
    check.response(client.get("/admin/users"), None, plain=False, where="GET /admin/users")
    check.verdict()


def test_overlong_timezone_names_are_a_clear_400(world):
    """zoneinfo raises OSError (file name too long) for names over 255 characters, not ValueError."""
    check = Checker("timezone fields")
    for name in ("a" * 300, "Europe/" + "x" * 300, "/" * 300):
        response = world.client("colleague").post("/account", data={
            "action": "profile", "profile-display_name": "Carol Acme", "profile-timezone": name})
        check.response(response, name, plain=True, where="POST /account (timezone)")
        response = world.client("admin").post("/admin/organizations", data={
            "name": "Timezone test", "plan": "standard", "timezone": name, "holidays": ""})
        check.response(response, name, plain=True, where="POST /admin/organizations (timezone)")
    check.verdict()
