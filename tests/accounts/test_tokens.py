"""Personal API tokens: created and revoked by their owner, shown once, stored hashed."""

from __future__ import annotations

import re

from flask_login import current_user
from sqlalchemy import select

from kb.accounts.models import ApiToken
from kb.accounts.tokens import user_from_authorization_header
from kb.extensions import db
from tests.conftest import login


def create_token(client, name="CI script"):
    response = client.post("/account", data={"action": "token", "token-name": name})
    match = re.search(r'id="new-token">(kbt_[^<]+)<', response.get_data(as_text=True))
    return response, match.group(1) if match else None


def test_token_is_shown_once_and_stored_hashed(client, customer):
    login(client, customer)
    response, plaintext = create_token(client)
    assert response.status_code == 200 and plaintext
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != plaintext and plaintext not in stored.token_hash
    assert plaintext not in client.get("/account").get_data(as_text=True)
    assert stored.prefix in client.get("/account").get_data(as_text=True)


def test_token_authenticates_and_records_use(client, customer):
    login(client, customer)
    _, plaintext = create_token(client)
    assert user_from_authorization_header(f"Bearer {plaintext}") == customer
    assert db.session.scalar(select(ApiToken)).last_used_at is not None
    assert user_from_authorization_header(f"Bearer {plaintext}x") is None
    assert user_from_authorization_header(f"Basic {plaintext}") is None
    assert user_from_authorization_header("Bearer ") is None


def test_api_paths_accept_bearer_tokens_and_pages_do_not(app_config, tmp_path, make_user):
    from kb import create_app
    from kb.accounts.tokens import create_api_token

    from tests.conftest import isolate_requests

    app = isolate_requests(create_app(app_config, instance_path=str(tmp_path / "api")))

    @app.route("/api/v1/whoami")
    def whoami():
        return {"user": current_user.email if current_user.is_authenticated else None}

    with app.app_context():
        db.create_all()
        user = make_user("customer")
        _, plaintext = create_api_token(user, "probe")
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {plaintext}"}
        assert client.get("/api/v1/whoami", headers=headers).json == {"user": user.email}
        assert client.get("/api/v1/whoami").json == {"user": None}
        assert client.get("/account", headers=headers).status_code == 302
        db.session.remove()


def test_disabled_user_tokens_stop_working(client, customer):
    login(client, customer)
    _, plaintext = create_token(client)
    customer.disabled = True
    db.session.commit()
    assert user_from_authorization_header(f"Bearer {plaintext}") is None


def test_revoke_own_token_only(client, customer, other_customer):
    login(client, customer)
    _, plaintext = create_token(client)
    token = db.session.scalar(select(ApiToken))
    client.post("/logout")
    login(client, other_customer)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    client.post("/logout")
    login(client, customer)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert user_from_authorization_header(f"Bearer {plaintext}") is None


def test_token_name_limits(app, client, customer):
    login(client, customer)
    response, plaintext = create_token(client, name="x" * 81)
    assert response.status_code == 400 and plaintext is None
    assert "at most 80 characters" in response.get_data(as_text=True)
    app.config["API_TOKENS_PER_USER"] = 1
    create_token(client, "first")
    response, plaintext = create_token(client, "second")
    assert plaintext is None and "revoke one first" in response.get_data(as_text=True)
