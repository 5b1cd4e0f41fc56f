"""Shared fixtures: an app on SQLite (or PostgreSQL via KB_TEST_DATABASE_URL), users of each role, mail."""

from __future__ import annotations

import contextlib
import os
import socket
from email import message_from_bytes, policy

import pytest
from flask import g
from sqlalchemy import inspect, text

from kb import create_app
from kb.accounts.models import Plan, Role
from kb.accounts.users import create_organization, create_user
from kb.extensions import db

PASSWORD = "correct horse battery staple"
POSTGRES_URL = os.environ.get("KB_TEST_DATABASE_URL", "")


def pytest_report_header(config):
    return f"database: {POSTGRES_URL or 'SQLite (one file per test)'}"


@pytest.fixture(scope="session")
def _postgres_schema():
    """On PostgreSQL, build the schema once per run; tests then only empty the tables."""
    if not POSTGRES_URL:
        yield None
        return
    app = create_app({"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": POSTGRES_URL})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
        db.engine.dispose()
    yield POSTGRES_URL


def _empty_postgres_tables() -> None:
    existing = set(inspect(db.engine).get_table_names())  # a test may have dropped one on purpose
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name in existing)
    if names:
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config(tmp_path, _postgres_schema) -> dict:
    """The configuration every test app starts from; a test may change it before asking for `app`."""
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": _postgres_schema or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "",
        # Each search written at once: a batch written after its test ended could land in the next
        # test's tables (tests/search/test_analytics.py tests the batches).
        "SEARCH_ANALYTICS_FLUSH_SECONDS": 0,
    }


def isolate_requests(app):
    """Test-client requests run inside the test's app context and so share its `g`; forget the
    signed-in user between requests so each one authenticates from its own cookies and headers."""

    @app.before_request
    def _forget_previous_user():
        g.pop("_login_user", None)

    return app


@pytest.fixture
def second_worker(app, app_config, tmp_path):
    """Another worker process on the same database: an app of its own, with its own page cache.

    Use ``with second_worker.app_context():``; on leaving, the test's own session starts afresh, as
    the first worker's next request would (test requests share the test's session)."""
    other = isolate_requests(create_app(app_config, instance_path=str(tmp_path / "instance-2")))

    class Worker:
        @contextlib.contextmanager
        def app_context(self):
            with other.app_context():
                yield other
            db.session.rollback()

        def test_client(self):
            return other.test_client()

    return Worker()


@pytest.fixture
def app(app_config, tmp_path):
    app = isolate_requests(create_app(app_config, instance_path=str(tmp_path / "instance")))
    with app.app_context():
        # On PostgreSQL the schema is shared by the run; this only adds tables that models declared
        # since (test-only models, or modules imported late).
        db.create_all()
        yield app
        db.session.remove()
        if POSTGRES_URL:
            _empty_postgres_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_org(app):
    def make(name: str = "Acme Corp", plan: str = "standard", timezone: str = "UTC"):
        org = create_organization(name, Plan(plan), timezone)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role: str = "customer", org=None, email: str | None = None, name: str | None = None,
             password: str = PASSWORD, timezone: str | None = None):
        number = next(counter)
        user = create_user(
            email or f"{role}{number}@example.com",
            password,
            display_name=name or f"{role.title()} {number}",
            role=Role(role),
            organization=org,
            timezone=timezone,
        )
        db.session.commit()
        return user

    return make


def login(client, user, password: str = PASSWORD):
    """Sign a test client in through the real login form."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def org(make_org):
    return make_org("Acme Corp", "standard", "Europe/London")


@pytest.fixture
def other_org(make_org):
    return make_org("Globex", "premium", "America/New_York")


@pytest.fixture
def customer(make_user, org):
    return make_user("customer", org=org, email="alice@acme.example", name="Alice")


@pytest.fixture
def other_customer(make_user, other_org):
    return make_user("customer", org=other_org, email="bob@globex.example", name="Bob")


@pytest.fixture
def staff(make_user):
    return make_user("staff", email="sam@support.example", name="Sam Support")


@pytest.fixture
def admin(make_user):
    return make_user("admin", email="ada@support.example", name="Ada Admin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_rcpt = list(envelope.rcpt_tos)
        list.append(self.messages, message)
        return "250 OK"


class Mailbox(list):
    """What reached the SMTP server. Reading it first runs the worker's delivery, as a worker would have."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def deliver(self) -> None:
        from kb.mail import deliver

        with self.app.app_context():
            deliver()

    def __len__(self):
        self.deliver()
        return super().__len__()

    def __iter__(self):
        self.deliver()
        return super().__iter__()

    def __getitem__(self, index):
        self.deliver()
        return super().__getitem__(index)

    def __eq__(self, other):
        self.deliver()
        return list.__eq__(self, other)

    def clear(self):
        self.deliver()
        super().clear()


def start_smtp(handler, **kwargs):
    """A real SMTP server (aiosmtpd) on a free loopback port; the caller stops it."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def mail_outbox(app):
    """A real SMTP server on loopback; the app queues mail, and reading the list runs the worker first."""
    collector = _Collector()
    collector.messages = Mailbox(app)
    controller = start_smtp(collector)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield collector.messages
    finally:
        controller.stop()
