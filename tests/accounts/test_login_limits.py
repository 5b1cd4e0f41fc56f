"""The per-account limit counts failed logins only, for any address typed, and says nothing more than "too often"."""

from __future__ import annotations

import pytest

from kb import create_app
from kb.extensions import db
from tests.conftest import PASSWORD, isolate_requests


@pytest.fixture
def limited_client(app_config, tmp_path):
    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute", LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    app = isolate_requests(create_app(app_config, instance_path=str(tmp_path / "rl")))
    with app.app_context():
        db.create_all()
        yield app.test_client()
        db.session.remove()


def _login(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_successful_logins_do_not_count(limited_client, make_user):
    user = make_user("customer")
    for _ in range(3):
        assert _login(limited_client, user.email, PASSWORD).status_code == 302
        limited_client.post("/logout")


def test_unknown_and_known_accounts_are_limited_alike(limited_client, make_user):
    user = make_user("customer")
    for email in (user.email, "nobody@example.com"):
        codes = [_login(limited_client, email, "wrong password", f"10.0.1.{n}").status_code for n in range(3)]
        assert codes == [400, 400, 429], email
    # Another account from the same address is not affected.
    other = make_user("customer")
    assert _login(limited_client, other.email, PASSWORD).status_code == 302
