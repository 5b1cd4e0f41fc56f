"""Every state-changing route, read from the URL map, refuses a request without a CSRF token."""

from __future__ import annotations

from sqlalchemy import func, select

from kb.extensions import db
from tests.security.conftest import record
from tests.security.routes import STATE_CHANGING, build, is_api, rules

CSRF_MESSAGE = "The form expired or was sent from another site"

# Who would be allowed to make the request if it carried a token (default: an admin).
ACTOR = {
    "accounts.login": "anonymous",
    "accounts.register": "anonymous",
    "accounts.reset_request": "anonymous",
    "accounts.reset_password": "anonymous",
    "accounts.revoke_token": "customer",
}


# Routes that must work without a CSRF token, and why. Each is still checked: a forged request
# is refused and changes nothing.
EXEMPT_BY_DESIGN = {
    "forums.unsubscribe": "one-click unsubscribe (RFC 8058) from a mail client: the signed token in the URL "
                          "is the authorisation",
}


def _row_counts(app) -> dict[str, int]:
    """Rows per table; the search outbox is left out, as a background drain empties it at any moment."""
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables
                if "outbox" not in t.name}


def _url(world, rule) -> str:
    for variant in ("own", "public", "others", "draft", "private"):
        path = build(rule, world.params[variant])
        if path is not None:
            return path
    return build(rule, {}, lenient=True)


def test_every_state_changing_route_refuses_a_missing_csrf_token(world):
    app = world.app
    before = _row_counts(app)
    failures, checked = [], []
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for rule in rules(app, STATE_CHANGING):
            if is_api(rule):
                continue
            url = _url(world, rule)
            if rule.endpoint in EXEMPT_BY_DESIGN:
                response = world.client("anonymous").post(url)
                checked.append(f"POST {rule.rule}")
                if not 400 <= response.status_code < 500:
                    failures.append(f"POST {url} ({rule.endpoint}, exempt) with a forged token -> {response.status_code}")
                continue
            client = world.client(ACTOR.get(rule.endpoint, "admin"))
            for method in sorted(set(rule.methods) & STATE_CHANGING):
                response = client.open(url, method=method, data={"title": "x", "body": "x", "name": "x"})
                checked.append(f"{method} {rule.rule}")
                body = response.get_data(as_text=True)
                if response.status_code != 400 or CSRF_MESSAGE not in body:
                    failures.append(f"{method} {url} ({rule.endpoint}) -> {response.status_code}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    record("csrf_routes", len(checked))
    assert checked, "the URL map has no state-changing routes at all"
    assert not failures, "routes that accepted a request without a CSRF token:\n" + "\n".join(failures)
    assert _row_counts(app) == before, "a request refused for its missing CSRF token still changed the database"
    stale = sorted(set(EXEMPT_BY_DESIGN) - {rule.endpoint for rule in rules(app)})
    assert not stale, f"EXEMPT_BY_DESIGN names routes that no longer exist: {stale}"


def test_api_refuses_cookie_authenticated_writes_without_a_bearer_token(world):
    """The API is CSRF-exempt by design, so a browser session cookie alone must never authorise it."""
    app = world.app
    api_rules = [r for r in rules(app, STATE_CHANGING) if is_api(r)]
    if not api_rules:
        return
    before = _row_counts(app)
    failures = []
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for role in ("customer", "staff", "admin"):
            client = world.client(role)
            for rule in api_rules:
                url = _url(world, rule)
                for method in sorted(set(rule.methods) & STATE_CHANGING):
                    response = client.open(url, method=method, json={"title": "cookie only", "description": "x",
                                                                     "severity": 3, "body": "x"})
                    if response.status_code not in (401, 403):
                        failures.append(f"{role}: {method} {url} -> {response.status_code}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    record("api_cookie_routes", len(api_rules))
    assert not failures, "API writes accepted on a session cookie alone:\n" + "\n".join(failures)
    assert _row_counts(app) == before
