"""Rate limits that hold: a store shared by every worker, per-account login limits, search and sign-up."""

from __future__ import annotations

import os
import uuid

import pytest

from kb import create_app
from kb.config import ConfigError
from tests.conftest import PASSWORD, isolate_requests

REDIS_URL = os.environ.get("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def _production(tmp_path, **config) -> dict:
    return {"ENV": "production", "SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "INDEX_DIR": str(tmp_path / "index"), **config}


def test_production_refuses_per_process_counters(tmp_path):
    with pytest.raises(ConfigError, match="KB_RATELIMIT_SINGLE_PROCESS=true") as refused:
        create_app(_production(tmp_path), instance_path=str(tmp_path / "i"))
    assert "redis://" in str(refused.value) and "each worker" in str(refused.value)


@pytest.mark.parametrize("config", [
    {"RATELIMIT_SINGLE_PROCESS": True},
    {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/2"},
    {"RATELIMIT_ENABLED": False},
])
def test_production_starts_with_a_shared_store_or_one_process(tmp_path, config):
    assert create_app(_production(tmp_path, **config), instance_path=str(tmp_path / "i")).config["ENV"] == "production"


def test_development_keeps_memory_counters(tmp_path):
    assert create_app({"ENV": "development", "INDEX_DIR": str(tmp_path / "x")}, instance_path=str(tmp_path / "i"))


@pytest.fixture
def redis_store():
    """A key prefix of its own in the test Redis database, so runs never see each other's counters."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set KB_TEST_REDIS_URL, or start redis-server)")
    prefix = f"kbtest-{uuid.uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


@pytest.fixture
def two_workers(app, app_config, tmp_path, redis_store):
    """Two app instances (as two gunicorn workers would be) on the test's database and one Redis store."""
    def make(**limits):
        config = dict(app_config, RATELIMIT_ENABLED=True, **redis_store, **limits)
        apps = [isolate_requests(create_app(config, instance_path=str(tmp_path / f"worker{n}"))) for n in (1, 2)]
        return [worker.test_client() for worker in apps]

    return make


def _alternate(clients, path, data, times, **kwargs) -> list[int]:
    return [clients[n % 2].post(path, data=data, **kwargs).status_code for n in range(times)]


def test_login_limit_holds_across_workers(two_workers, redis_store):
    clients = two_workers(LOGIN_RATE_LIMIT="3 per minute")
    codes = _alternate(clients, "/login", {"email": "a@example.com", "password": "wrong password"}, 4)
    assert codes == [400, 400, 400, 429]
    import redis

    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_store['RATELIMIT_KEY_PREFIX']}*"))  # counted there


def test_registration_limit_holds_across_workers(two_workers):
    clients = two_workers(REGISTER_RATE_LIMIT="2 per minute")
    codes = _alternate(clients, "/register", {"email": "bad", "display_name": "x", "password": "p", "confirm": "p"}, 3)
    assert codes == [400, 400, 429]


def test_search_limits_hold_across_workers(two_workers):
    clients = two_workers(SEARCH_RATE_LIMIT="2 per minute", SEARCH_CLICK_RATE_LIMIT="2 per minute")
    assert [clients[n % 2].get("/search?q=journal").status_code for n in range(3)] == [200, 200, 429]
    assert [clients[n % 2].get("/search/click?url=/articles/").status_code for n in range(3)] == [302, 302, 429]


def test_failed_logins_per_account_hold_across_workers_and_addresses(two_workers, make_user):
    clients = two_workers(LOGIN_RATE_LIMIT="100 per minute", LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    user = make_user("customer", email="target@example.com")
    wrong = {"email": "Target@Example.com ", "password": "not the password"}
    codes = [clients[n % 2].post("/login", data=wrong, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
             for n in range(3)]
    assert codes == [400, 400, 400]
    # Now even the right password waits, and the page says nothing about the account.
    response = clients[1].post("/login", data={"email": user.email, "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.0.0.99"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "too often" in page and "target@example.com" not in page.lower()
