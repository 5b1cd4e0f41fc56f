"""Who may change what: every state-changing route from the URL map, asked by the roles that must
be refused, on each object variant; each refusal is a clear 401/403/404 (or a sign-in redirect)
and leaves every table exactly as it was.

Rows in ACTIONS give, per object variant, one letter per role in ROLES order (anonymous, customer,
other_customer, staff, admin): "D" must be denied; "." may be allowed (the features' own tests
cover what the action does). A new state-changing route fails until it has a row.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from kb.extensions import db
from tests.security.conftest import record
from tests.security.routes import STATE_CHANGING, build, is_api, rules
from tests.security.world import ROLES

PUBLIC_ACTION = ". . . . ."
SIGNED_IN_ACTION = "D . . . ."
STAFF_ACTION = "D D D . ."
ADMIN_ACTION = "D D D D ."
OWNERS = {"own": "D . D . .", "others": "D D . . .", "private": "D D D . ."}
READERS = {"own": SIGNED_IN_ACTION, "others": SIGNED_IN_ACTION, "private": STAFF_ACTION}
ORG_MEMBERS = {"own": "D . D . .", "others": "D D . . ."}

ACTIONS: dict[str, dict[str, str]] = {
    "accounts.login": {"-": PUBLIC_ACTION},
    "accounts.logout": {"-": PUBLIC_ACTION},
    "accounts.register": {"-": PUBLIC_ACTION},
    "accounts.reset_request": {"-": PUBLIC_ACTION},
    "accounts.reset_password": {"*": PUBLIC_ACTION},
    "accounts.verify_email": {"*": PUBLIC_ACTION},
    "accounts.accept_invite": {"*": PUBLIC_ACTION},
    "accounts.account": {"-": SIGNED_IN_ACTION},
    "accounts.sign_out_everywhere": {"-": SIGNED_IN_ACTION},
    "accounts.resend_verification": {"-": SIGNED_IN_ACTION},
    "accounts.admin_invite": {"-": ADMIN_ACTION},
    "accounts.revoke_token": {"own": "D . D D D", "others": "D D . D D"},
    "accounts.admin_user": {"*": ADMIN_ACTION},
    "accounts.admin_organizations": {"-": ADMIN_ACTION},
    "accounts.admin_organization": {"*": ADMIN_ACTION},
    "accounts.admin_mail_retry": {"-": ADMIN_ACTION},
    "accounts.admin_mail_retry_failed": {"-": ADMIN_ACTION},
    "articles.new": {"-": STAFF_ACTION},
    "articles.preview": {"-": STAFF_ACTION},
    "articles.upload_image": {"-": STAFF_ACTION},
    "articles.edit": {"*": STAFF_ACTION},
    "articles.publish": {"*": STAFF_ACTION},
    "articles.unpublish": {"*": STAFF_ACTION},
    "articles.archive": {"*": STAFF_ACTION},
    "articles.review": {"*": STAFF_ACTION},
    "articles.restore": {"*": STAFF_ACTION},
    "articles.feedback": {"public": PUBLIC_ACTION, "draft": "D D D . ."},
    "cases.new": {"-": SIGNED_IN_ACTION},
    "cases.comment": ORG_MEMBERS,
    "cases.status": ORG_MEMBERS,
    "cases.escalate": ORG_MEMBERS,
    "cases.watch": ORG_MEMBERS,
    "cases.link_thread": ORG_MEMBERS,
    "cases.change_severity": {"*": STAFF_ACTION},
    "cases.assign": {"*": STAFF_ACTION},
    "cases.summary": {"*": STAFF_ACTION},
    "cases.delete_file": {"*": STAFF_ACTION},  # staff remove a file from a case
    "cases_api.create_case": {"-": "D D D D D"},  # a session cookie never authorises the API
    "cases_api.add_attachments": {"*": "D D D D D"},
    "forums.new_thread": {"public": SIGNED_IN_ACTION, "own": SIGNED_IN_ACTION, "others": SIGNED_IN_ACTION,
                          "private": STAFF_ACTION},
    "forums.ask": {"-": SIGNED_IN_ACTION},
    "forums.reply": READERS,
    "forums.upload_image": {"-": SIGNED_IN_ACTION},
    "forums.like": READERS,
    "forums.flag": READERS,
    "forums.watch": READERS,
    "forums.watch_category": {"public": SIGNED_IN_ACTION, "own": SIGNED_IN_ACTION, "others": SIGNED_IN_ACTION,
                              "private": STAFF_ACTION},
    "forums.edit_post": OWNERS,
    "forums.delete_post": OWNERS,
    "forums.accept": OWNERS,
    "forums.hide_post": {"*": STAFF_ACTION},
    "forums.restore_post": {"*": STAFF_ACTION},
    "forums.dismiss_flags": {"*": STAFF_ACTION},
    "forums.moderate_thread": {"*": STAFF_ACTION},
    "forums.move": {"*": STAFF_ACTION},
    "forums.capture": {"*": STAFF_ACTION},
    "forums.secret_patterns": {"-": STAFF_ACTION},
    "forums.delete_secret_pattern": {"-": STAFF_ACTION},
    "forums.edit_category": {"*": ADMIN_ACTION, "-": ADMIN_ACTION},
    "forums.notifications_read": {"-": SIGNED_IN_ACTION},
    "forums.unsubscribe": {"*": PUBLIC_ACTION},
}

# Tables a refused request may legitimately write to, and why.
MAY_CHANGE = {
    "forum_drafts": "a signed-out visitor's post is kept as a draft until they sign in (never lose work)",
}

# What a user would send if the action were allowed, so a missing check shows as a change, not a 400.
PAYLOAD = {
    "title": "Unauthorised change attempt", "body": "Unauthorised change attempt body text.", "tags": "",
    "action": "post", "summary": "x", "type": "how-to", "category": "0", "message": "x",
    "helpful": "yes", "comment": "Unauthorised feedback", "reason": "spam", "note": "x",
    "comment-body": "Unauthorised comment", "status-status": "closed", "severity-severity": "1",
    "severity-reason": "Unauthorised re-grade", "update-body": "Unauthorised reply", "update-send": "reply",
    "escalate-reason": "Unauthorised escalation", "link-thread": "1", "verified_version": "8.0",
    "name": "Unauthorised", "slug": "unauthorised", "description": "x", "position": "1", "read_access": "everyone",
    "post_access": "users", "pattern": "x+", "display_name": "Unauthorised", "role": "admin", "organization_id": "0",
    "plan": "premium", "timezone": "UTC", "holidays": "", "profile-display_name": "Unauthorised",
    "profile-timezone": "UTC",
}


def _fingerprint(app) -> dict[str, str]:
    """A digest of every row of every table (the search outbox aside: a background drain empties it)."""
    with app.app_context():
        digests = {}
        for table in db.metadata.sorted_tables:
            if "outbox" in table.name or table.name in MAY_CHANGE:
                continue
            rows = sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
            digests[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        db.session.remove()
        return digests


def _targets(world, rule):
    """(variant, path) for every object variant the rule can be filled with, or one placeholder path."""
    if not rule.arguments:
        return [("-", rule.rule)]
    found = [(variant, build(rule, world.values(rule.endpoint, variant)))
             for variant in ("public", "own", "others", "draft", "private")]
    found = [(variant, path) for variant, path in found if path is not None]
    return found or [("-", build(rule, {}, lenient=True))]


def _refused(response, role: str) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return role == "anonymous" and response.status_code in (302, 303) and "/login" in location



def test_refused_actions_are_refused_and_change_nothing(world):
    for role in ROLES:
        world.client(role)
    endpoints = {rule.endpoint for rule in rules(world.app, STATE_CHANGING)}
    unknown = sorted(endpoints - set(ACTIONS))
    assert not unknown, "state-changing routes with no row in ACTIONS; decide who may use them:\n" + "\n".join(unknown)
    before = _fingerprint(world.app)
    failures, checks = [], 0
    for rule in rules(world.app, STATE_CHANGING):
        table = ACTIONS[rule.endpoint]
        for variant, path in _targets(world, rule):
            spec = table.get(variant) or table.get("*")
            if spec is None:
                failures.append(f"{rule.endpoint}: no row for the {variant!r} object ({path})")
                continue
            for role, letter in zip(ROLES, spec.split()):
                if letter != "D":
                    continue
                client = world.client(role)
                if is_api(rule):
                    response = client.post(path, json={"title": "x", "description": "x", "severity": 3})
                else:
                    response = client.post(path, data=PAYLOAD)
                checks += 1
                if not _refused(response, role):
                    failures.append(f"{role:15} POST {path:50} ({rule.endpoint}, {variant}) -> "
                                    f"{response.status_code} {response.headers.get('Location', '')}")
    after = _fingerprint(world.app)
    changed = sorted(name for name in before if before[name] != after.get(name))
    record("authz_checks", checks)
    record("authz_action_routes", len(endpoints))
    assert not failures, f"{len(failures)} actions not refused:\n" + "\n".join(failures)
    assert not changed, f"refused actions still changed these tables: {changed}"


def test_no_stale_rows():
    """Rows for routes that were removed are dropped, so the table stays the truth."""
    from kb import create_app

    app = create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    stale = sorted(set(ACTIONS) - {rule.endpoint for rule in rules(app, STATE_CHANGING)})
    assert not stale, f"ACTIONS rows for routes that no longer exist: {stale}"
