"""A seeded site shared by a module's hostile-input tests, and the counts printed at the end."""

from __future__ import annotations

from collections import Counter

import pytest

from kb import create_app
from kb.extensions import db
from tests.conftest import POSTGRES_URL, _empty_postgres_tables
from tests.security.world import World

SECURITY_STATS: Counter = Counter()
SECURITY_SETS: dict[str, set] = {}


def record(key: str, amount: int = 1) -> None:
    SECURITY_STATS[key] += amount


def record_item(key: str, item) -> None:
    SECURITY_SETS.setdefault(key, set()).add(item)


@pytest.fixture(scope="module")
def world(tmp_path_factory, _postgres_schema):
    """One app per test module with users of every role and one object of each kind.

    Requests run WITHOUT a pushed app context, as in production, so each request loads its own
    user and database session (a pushed context would carry ``g`` and the session across clients).
    """
    tmp = tmp_path_factory.mktemp("security")
    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "security-suite",
            "DATABASE_URL": _postgres_schema or f"sqlite:///{tmp / 'world.sqlite3'}",
            "INDEX_DIR": str(tmp / "index"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": "",
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        if not POSTGRES_URL:
            db.create_all()
    world = World(app)
    world.seed()
    yield world
    with app.app_context():
        db.session.remove()
        if POSTGRES_URL:
            _empty_postgres_tables()
        db.engine.dispose()


def pytest_terminal_summary(terminalreporter):
    if not SECURITY_STATS and not SECURITY_SETS:
        return
    terminalreporter.section("hostile-input suite")
    labels = {
        "csrf_routes": "state-changing routes refused without a CSRF token",
        "api_cookie_routes": "API routes refusing cookie-only (no bearer token) writes",
        "authz_routes": "GET routes in the authorisation matrix",
        "authz_action_routes": "state-changing routes in the refusal matrix",
        "authz_checks": "route x object x role requests checked",
        "leak_probes": "responses scanned for things the viewer may not see",
        "naughty_vectors": "naughty strings (blns) loaded",
        "naughty_submissions": "naughty-string submissions (no 500, escaped on the way back)",
        "fuzz_examples": "Hypothesis examples run against parsers",
        "schemathesis_cases": "schemathesis API calls checked against the OpenAPI schema",
    }
    for key, label in labels.items():
        if SECURITY_STATS.get(key):
            terminalreporter.write_line(f"{label}: {SECURITY_STATS[key]}")
    for key, values in sorted(SECURITY_SETS.items()):
        listed = f" ({', '.join(sorted(map(str, values)))})" if len(values) <= 8 else ""
        terminalreporter.write_line(f"distinct {key} checked: {len(values)}{listed}")
