"""Who may open what: every GET route from the URL map x role x object, and nothing leaks.

Each route must have a row in EXPECT: a new route fails this test until someone decides who may
see it. A row maps an object variant to the expected answers for the five roles, in ROLES order:
anonymous, customer (Acme), other_customer (Globex), staff, admin.

Variants: "-" (a route without arguments), "public" (a published article, a public category),
"own" (the Acme customer's thread, post, case, token), "others" (Globex's), "draft" (an unpublished
article), "private" (a thread in a staff-only category). "*" applies to every variant the route
can be filled with. Answers: a status code, "login" (a redirect to the sign-in page) or ">/path"
(a redirect there).
"""

from __future__ import annotations

from tests.security.conftest import record, record_item
from tests.security.routes import build, rules
from tests.security.world import ROLES, unsafe_markup

VARIANTS = ("public", "own", "others", "draft", "private")

PUBLIC = "200 200 200 200 200"
SIGNED_IN = "login 200 200 200 200"
STAFF = "login 403 403 200 200"
ADMIN = "login 403 403 403 200"
HIDDEN_FROM_CUSTOMERS = "404 404 404 200 200"
ANONYMOUS_ONLY = "200 >/ >/ >/ >/"

EXPECT: dict[str, dict[str, str]] = {
    # site
    "site.home": {"-": PUBLIC},
    "site.healthz": {"-": PUBLIC},
    "site.robots": {"-": PUBLIC},
    "site.sitemap": {"-": PUBLIC},
    "site.favicon": {"-": PUBLIC},
    # accounts
    "accounts.login": {"-": ANONYMOUS_ONLY},
    "accounts.register": {"-": ANONYMOUS_ONLY},
    "accounts.reset_request": {"-": PUBLIC},
    "accounts.reset_password": {"public": ">/reset-password >/reset-password >/reset-password >/reset-password "
                                          ">/reset-password"},
    "accounts.verify_email": {"public": ">/login >/login >/login >/login >/login"},
    "accounts.accept_invite": {"public": ">/login >/login >/login >/login >/login"},
    "accounts.account": {"-": SIGNED_IN},
    "accounts.admin_invite": {"-": ADMIN},
    "accounts.admin_audit": {"-": ADMIN},
    "accounts.admin_users": {"-": ADMIN},
    "accounts.admin_user": {"*": ADMIN},
    "accounts.admin_organizations": {"-": ADMIN},
    "accounts.admin_organization": {"*": ADMIN},
    "accounts.admin_mail": {"-": ADMIN},
    # articles
    "articles.index": {"-": PUBLIC},
    "articles.site_index": {"-": PUBLIC},
    "articles.show": {"public": PUBLIC, "draft": HIDDEN_FROM_CUSTOMERS},
    "articles.category": {"public": PUBLIC, "draft": "404 404 404 404 404"},
    "articles.new": {"-": STAFF},
    "articles.edit": {"*": STAFF},
    "articles.history": {"*": STAFF},
    "articles.review_queue": {"-": STAFF},
    "articles.feed": {"-": PUBLIC},
    # search
    "search.results": {"-": PUBLIC},
    "search.suggestions": {"-": PUBLIC},
    "search.click": {"-": ">/search >/search >/search >/search >/search"},
    "search.search_analytics": {"-": STAFF},
    # forums
    "forums.index": {"-": PUBLIC},
    "forums.answers": {"-": PUBLIC},
    "forums.ask": {"-": SIGNED_IN},
    "forums.category": {"public": PUBLIC, "own": PUBLIC, "others": PUBLIC, "private": HIDDEN_FROM_CUSTOMERS},
    "forums.feed": {"public": PUBLIC, "own": PUBLIC, "others": PUBLIC, "private": HIDDEN_FROM_CUSTOMERS},
    "forums.new_thread": {"public": SIGNED_IN, "own": SIGNED_IN, "others": SIGNED_IN,
                          "private": HIDDEN_FROM_CUSTOMERS},
    "forums.thread": {"own": PUBLIC, "others": PUBLIC, "private": HIDDEN_FROM_CUSTOMERS},
    "forums.reply": {"own": SIGNED_IN, "others": SIGNED_IN, "private": HIDDEN_FROM_CUSTOMERS},
    "forums.post_link": {"own": ">/threads/ >/threads/ >/threads/ >/threads/ >/threads/",
                         "others": ">/threads/ >/threads/ >/threads/ >/threads/ >/threads/",
                         "private": "404 404 404 >/threads/ >/threads/"},
    "forums.edit_post": {"own": "login 200 403 200 200", "others": "login 403 200 200 200",
                         "private": HIDDEN_FROM_CUSTOMERS},
    "forums.flag": {"own": SIGNED_IN, "others": SIGNED_IN, "private": HIDDEN_FROM_CUSTOMERS},
    "forums.post_history": {"*": STAFF},
    "forums.notifications_page": {"-": SIGNED_IN},
    "forums.moderation_queue": {"-": STAFF},
    "forums.secret_patterns": {"-": STAFF},
    "forums.manage_categories": {"-": ADMIN},
    "forums.edit_category": {"*": ADMIN, "-": ADMIN},
    "forums.unsubscribe": {"public": "400 400 400 400 400"},  # a forged token; real ones: tests/forums
    # cases and the support policy
    "cases.severity": {"-": PUBLIC},
    "cases.suggest": {"-": PUBLIC},
    "cases.support": {"-": PUBLIC},
    "cases.index": {"-": SIGNED_IN},
    "cases.new": {"-": SIGNED_IN},
    "cases.detail": {"own": "login 200 404 200 200", "others": "login 404 200 200 200"},
    "cases.summary": {"*": STAFF},  # each seeded case is linked to a thread, so there is a summary to post
    "cases.staff_queue": {"-": STAFF},
    # the API authenticates with bearer tokens only: a session cookie is not enough
    "cases_api.openapi": {"-": PUBLIC},
    "cases_api.list_cases": {"-": "401 401 401 401 401"},
    "cases_api.get_case": {"*": "401 401 401 401 401"},
    # stored files: each owner kind has its rule (tests/uploads, tests/cases, tests/images); an image is public
    "uploads.download": {"public": PUBLIC},
    "uploads.api_download": {"public": PUBLIC},
    # Prometheus: a bearer KB_METRICS_TOKEN only, never a session; unset here, so a 404 for everyone
    "ops.metrics": {"-": "404 404 404 404 404"},
}


def _matches(expected: str, response) -> bool:
    location = response.headers.get("Location", "")
    if expected == "login":
        return response.status_code in (301, 302, 303) and "/login" in location
    if expected.startswith(">"):
        return response.status_code in (301, 302, 303) and location.split("?")[0].startswith(expected[1:])
    return response.status_code == int(expected)


def _cases(world):
    """(rule, variant, path) for every GET route, once per object variant it can be filled with."""
    for rule in rules(world.app, {"GET"}):
        if not rule.arguments:
            yield rule, "-", rule.rule
            continue
        for variant in VARIANTS:
            path = build(rule, world.values(rule.endpoint, variant))
            if path is not None:
                yield rule, variant, path


def _with_query(rule, path: str) -> list[str]:
    """Routes whose answer depends on the query string are also asked about every secret word."""
    words = ("heron", "zebra", "quokka", "walrus", "narwhal", "ocelot", "pangolin", "lynx", "iguana", "tapir",
             "capybara", "marmot")
    if rule.endpoint in ("search.results", "search.suggestions"):
        return [path] + [f"{path}?q={word}" for word in words] + [f"{path}?q={word[:3]}" for word in words]
    if rule.endpoint in ("articles.index", "accounts.admin_users", "cases.index", "cases.staff_queue"):
        return [path, f"{path}?q=ocelot", f"{path}?status=draft"]
    return [path]


def test_every_get_route_has_an_expectation(world):
    unknown = sorted({rule.endpoint for rule in rules(world.app, {"GET"})} - set(EXPECT))
    assert not unknown, (
        "new GET routes with no row in tests/security/test_authz.py EXPECT; decide who may see them:\n"
        + "\n".join(unknown))
    stale = sorted(set(EXPECT) - {rule.endpoint for rule in rules(world.app, {"GET"})})
    assert not stale, f"EXPECT rows for routes that no longer exist: {stale}"
    reached = {rule.rule for rule, _, _ in _cases(world)}
    unfilled = sorted(rule.rule for rule in rules(world.app, {"GET"}) if rule.rule not in reached)
    assert not unfilled, (
        "GET routes no seeded object can fill, so the matrix never asks them; add values in "
        f"tests/security/world.py: {unfilled}")


def test_authorisation_matrix_and_no_leaks(world):
    # As in production: CSRF on, so pages render their forms' tokens exactly as users get them.
    world.app.config["WTF_CSRF_ENABLED"] = True
    try:
        _matrix(world)
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = False


def _matrix(world):
    failures: list[str] = []
    leaks: list[str] = []
    checks = probes = 0
    for rule, variant, path in _cases(world):
        table = EXPECT.get(rule.endpoint)
        if table is None:
            continue
        spec = table.get(variant) or table.get("*")
        if spec is None:
            failures.append(f"{rule.endpoint}: no expectation for the {variant!r} object ({path})")
            continue
        expected = spec.split()
        assert len(expected) == len(ROLES), f"{rule.endpoint} {variant}: need {len(ROLES)} answers, got {spec!r}"
        record_item("roles", "anonymous")
        for role, want in zip(ROLES, expected):
            record_item("roles", role)
            client = world.client(role)
            response = client.get(path)
            checks += 1
            if not _matches(want, response):
                failures.append(
                    f"{role:15} GET {path:50} ({rule.endpoint}, {variant}) -> {response.status_code} "
                    f"{response.headers.get('Location', '')} (expected {want})")
            for url in _with_query(rule, path):
                answer = response if url == path else client.get(url)
                if answer.status_code >= 500:
                    failures.append(f"{role:15} GET {url} -> {answer.status_code}")
                body = answer.get_data().decode("utf-8", "replace")  # a file (an image) is bytes
                probes += 1
                for secret in world.forbidden_secrets(role):
                    if secret in body:
                        leaks.append(f"{role} sees {secret!r} at {url}")
                if answer.mimetype == "text/html":
                    if "script-src 'self'" not in answer.headers.get("Content-Security-Policy", ""):
                        failures.append(f"{url}: HTML without the site's Content-Security-Policy")
                    problems = unsafe_markup(body)
                    if problems:
                        failures.append(f"unsafe markup at {url}: {problems[:3]}")
        record_item("routes", rule.rule)
    record("authz_routes", len({r.rule for r, _, _ in _cases(world)}))
    record("authz_checks", checks)
    record("leak_probes", probes)
    assert not leaks, "pages show what the viewer may not see:\n" + "\n".join(leaks)
    assert not failures, f"{len(failures)} unexpected answers:\n" + "\n".join(failures)


# Bearer-token API: (path variant) -> answers for anonymous (no token), customer, other_customer, staff, admin.
API_EXPECT = {
    "/api/v1/cases": "401 200 200 200 200",
    "/api/v1/cases?status=all": "401 200 200 200 200",
    "own": "401 200 404 200 200",
    "others": "401 404 200 200 200",
}


def test_api_with_bearer_tokens_answers_each_role_and_leaks_nothing(world):
    if not any(rule.rule.startswith("/api/v1/cases") for rule in rules(world.app)):
        return
    client = world.app.test_client()
    failures, leaks = [], []
    number = {v: world.values("cases_api.get_case", v).get("number") for v in ("own", "others")}
    for where, spec in API_EXPECT.items():
        path = f"/api/v1/cases/{number[where]}" if where in number else where
        for role, want in zip(ROLES, spec.split()):
            headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role in world.tokens else {}
            response = client.get(path, headers=headers)
            if response.status_code != int(want):
                failures.append(f"{role} GET {path} -> {response.status_code} (expected {want})")
            if response.mimetype != "application/json":
                failures.append(f"{role} GET {path} answered {response.mimetype}, not JSON")
            body = response.get_data(as_text=True)
            for secret in world.forbidden_secrets(role):
                if secret in body:
                    leaks.append(f"{role} sees {secret!r} at {path}")
    for bad in ("Bearer ", "Bearer kbt_not-a-real-token", "Basic YWxpY2U6cGFzcw==", "bearer\tkbt_x" * 50):
        response = client.get("/api/v1/cases", headers={"Authorization": bad})
        if response.status_code != 401:
            failures.append(f"Authorization {bad[:30]!r} -> {response.status_code} (expected 401)")
    record("authz_checks", len(API_EXPECT) * len(ROLES))
    assert not leaks, "\n".join(leaks)
    assert not failures, "\n".join(failures)


def test_the_leak_probes_do_see_what_each_role_may_see(world):
    """A positive control: without it, an empty search index would make every leak check pass."""
    from tests.security.world import (
        DRAFT_TITLE,
        HIDDEN_REPLY,
        MEMBERS_TITLE,
        OWN_CASE_TITLE,
        PRIVATE_TITLE,
    )

    expected = []
    if "articles.show" in world.app.view_functions:
        expected += [("anonymous", "/search?q=heron", "Public heron guide"),
                     ("staff", "/articles/?status=draft", DRAFT_TITLE)]
    if "forums.thread" in world.app.view_functions:
        expected += [("anonymous", "/search?q=heron", "Acme heron question"),
                     ("staff", "/search?q=walrus", PRIVATE_TITLE),
                     ("staff", "/forums/escalations-desk/", PRIVATE_TITLE)]
    if "cases.detail" in world.app.view_functions:
        expected += [("customer", "/cases/", OWN_CASE_TITLE), ("staff", "/staff/queue", OWN_CASE_TITLE)]
    if MEMBERS_TITLE in world.secrets:
        expected += [("customer", "/forums/customer-lounge/", MEMBERS_TITLE)]
    if HIDDEN_REPLY in world.secrets:
        thread = world.values("forums.thread", "others")["thread_id"]
        expected += [("staff", f"/threads/{thread}", HIDDEN_REPLY)]
    assert MEMBERS_TITLE in world.secrets or "forums.thread" not in world.app.view_functions
    missing = [f"{role} {url} lacks {text!r}" for role, url, text in expected
               if text not in world.client(role).get(url).get_data(as_text=True)]
    assert not missing, "\n".join(missing)


EVIL = ("https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example", "/\t/evil.example",
        "javascript:alert(1)")


def _offsite(location: str) -> bool:
    from urllib.parse import urlsplit

    cleaned = "".join(ch for ch in location if ch > " ").replace("\\", "/")
    parts = urlsplit(cleaned)
    return bool(parts.netloc and parts.hostname not in ("localhost", "127.0.0.1")) or parts.scheme not in (
        "", "http", "https") or cleaned.startswith("//")


def test_no_route_redirects_off_site(world):
    """Every GET route, with next=, url=, return_to= and redirect= pointing elsewhere, stays on the site."""
    failures, checks = [], 0
    for rule, _variant, path in _cases(world):
        for evil in EVIL:
            for role in ("anonymous", "customer"):
                response = world.client(role).get(path, query_string={
                    "next": evil, "url": evil, "return_to": evil, "redirect": evil, "qid": "1", "pos": "1"})
                checks += 1
                location = response.headers.get("Location", "")
                if location and _offsite(location):
                    failures.append(f"{role} GET {path}?…={evil!r} -> {response.status_code} Location {location!r}")
    for evil in EVIL:
        response = world.app.test_client().post("/login", query_string={"next": evil}, data={
            "email": "alice@acme.example", "password": "correct horse battery staple", "next": evil})
        checks += 1
        if _offsite(response.headers.get("Location", "")):
            failures.append(f"POST /login next={evil!r} -> Location {response.headers['Location']!r}")
    record("authz_checks", checks)
    assert not failures, "open redirects:\n" + "\n".join(failures)


def test_session_cookie_is_httponly_and_samesite(world):
    response = world.app.test_client().post("/login", data={"email": "alice@acme.example",
                                                            "password": "correct horse battery staple"})
    cookies = [value for name, value in response.headers.items() if name.lower() == "set-cookie"]
    session = [c for c in cookies if c.startswith("session=")]
    assert session, cookies
    assert "HttpOnly" in session[0] and "SameSite=Lax" in session[0], session[0]
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert header in response.headers, header
