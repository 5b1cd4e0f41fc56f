"""Register, log in, log out, reset a password: the paths a customer takes, bad input included."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from sqlalchemy import select

from kb.accounts.models import Role, User
from kb.accounts.tokens import make_reset_token
from kb.extensions import db
from tests.conftest import PASSWORD, login


def register(client, **overrides):
    data = {
        "email": "New.Person@Example.COM",
        "display_name": "New Person",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_normalises_email_and_asks_to_confirm_the_address(client, mail_outbox):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    user = db.session.scalar(select(User))
    assert user.email == "new.person@example.com"
    assert user.role is Role.CUSTOMER and not user.email_verified
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    [message] = mail_outbox
    assert message["To"] == "new.person@example.com" and "/verify-email/" in message.get_body(("plain",)).get_content()


def test_register_with_an_existing_address_answers_the_same_and_mails_the_owner(client, customer, mail_outbox):
    new = register(client, email="someone.new@example.com")
    mail_outbox.clear()
    existing = register(client, email=customer.email.upper())
    assert existing.status_code == new.status_code == 302
    assert existing.headers["Location"] == new.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert "Check your inbox" in page and "already" not in page
    [message] = mail_outbox
    assert message["To"] == customer.email and "already has one" in message.get_body(("plain",)).get_content()
    assert "/verify-email/" not in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"email": "not-an-address"}, "email address"),
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"confirm": "something else entirely"}, "do not match"),
        ({"display_name": "x" * 81}, "at most 80 characters"),
        ({"display_name": ""}, "This field is required"),
    ],
)
def test_register_rejects_bad_input_and_keeps_what_was_typed(client, overrides, message):
    response = register(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="new.person@example.com"' in page.lower() or "not-an-address" in page
    assert db.session.scalar(select(User)) is None


def test_login_wrong_password(client, customer):
    response = client.post("/login", data={"email": customer.email, "password": "wrong password!"})
    assert response.status_code == 400
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_is_case_insensitive_on_email(client, customer):
    response = client.post("/login", data={"email": customer.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_disabled_user_cannot_log_in(client, customer):
    customer.disabled = True
    db.session.commit()
    response = client.post("/login", data={"email": customer.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "disabled" in response.get_data(as_text=True)


def test_disabling_a_signed_in_user_ends_their_session(client, customer):
    login(client, customer)
    assert client.get("/account").status_code == 200
    customer.disabled = True
    db.session.commit()
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "next_url, expected",
    [("/account", "/account"), ("https://evil.example/", "/"), ("//evil.example", "/")],
)
def test_login_redirects_only_to_same_site_paths(client, customer, next_url, expected):
    response = client.post("/login", data={"email": customer.email, "password": PASSWORD, "next": next_url})
    assert response.headers["Location"] == expected


def test_login_page_carries_next_from_query(client):
    page = client.get("/login?next=/account").get_data(as_text=True)
    assert 'value="/account"' in page


def test_remember_me_sets_a_persistent_cookie(client, customer):
    response = client.post("/login", data={"email": customer.email, "password": PASSWORD, "remember": "y"})
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_logout_requires_post(client, customer):
    login(client, customer)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302


def test_account_page_requires_login_and_returns_there(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=%2Faccount" in response.headers["Location"]


def test_password_reset_by_email(client, customer, mail_outbox):
    response = client.post("/reset-password", data={"email": customer.email})
    assert response.status_code == 302
    assert len(mail_outbox) == 1
    message = mail_outbox[0]
    assert message["To"] == customer.email
    link = re.search(r"http://localhost(/reset-password/\S+)", message.get_body(("plain",)).get_content()).group(1)
    new_password = "a brand new passphrase"
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": new_password, "confirm": new_password})
    assert response.status_code == 302
    assert client.post("/login", data={"email": customer.email, "password": new_password}).status_code == 302
    # The link works once: the password it was made for has changed.
    assert client.get(link).status_code == 302


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client, mail_outbox):
    response = client.post("/reset-password", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert mail_outbox == []


def test_forged_reset_token_is_refused(client, customer):
    token = make_reset_token(customer)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.get(f"/reset-password/{forged}", follow_redirects=True)
    assert "invalid, already used or expired" in response.get_data(as_text=True)


def test_expired_reset_token_is_refused(app, client, customer):
    token = make_reset_token(customer)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.post(f"/reset-password/{token}", data={"password": "x" * 12, "confirm": "x" * 12})
    assert response.status_code == 302
    assert customer.check_password(PASSWORD)


def test_profile_update_and_bad_timezone(client, customer):
    login(client, customer)
    response = client.post(
        "/account",
        data={"action": "profile", "profile-display_name": "Alice B.", "profile-timezone": "Asia/Kolkata"},
    )
    assert response.status_code == 302
    assert customer.display_name == "Alice B." and customer.timezone == "Asia/Kolkata"
    response = client.post(
        "/account",
        data={"action": "profile", "profile-display_name": "Alice C.", "profile-timezone": "Mars/Olympus"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Unknown timezone" in page and 'value="Alice C."' in page


def test_change_password_needs_the_current_one(client, customer):
    login(client, customer)
    data = {"action": "password", "password-current_password": "nope", "password-password": "x" * 12,
            "password-confirm": "x" * 12}
    response = client.post("/account", data=data)
    assert response.status_code == 400 and "not your current password" in response.get_data(as_text=True)
    data["password-current_password"] = PASSWORD
    assert client.post("/account", data=data).status_code == 302
    assert customer.check_password("x" * 12)


def test_missing_csrf_token_is_refused(app_config, tmp_path):
    from kb import create_app

    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config, instance_path=str(tmp_path / "csrf"))
    with app.app_context():
        db.create_all()
        response = app.test_client().post("/login", data={"email": "a@example.com", "password": PASSWORD})
        assert response.status_code == 400
        assert "form expired" in response.get_data(as_text=True)
        db.session.remove()


@pytest.mark.parametrize(
    "path, limit_key, data",
    [
        ("/login", "LOGIN_RATE_LIMIT", {"email": "a@example.com", "password": "bad"}),
        ("/register", "REGISTER_RATE_LIMIT", {"email": "bad", "display_name": "x", "password": "p", "confirm": "p"}),
        ("/reset-password", "RESET_RATE_LIMIT", {"email": "nobody@example.com"}),
    ],
)
def test_account_forms_are_rate_limited(app_config, tmp_path, path, limit_key, data):
    from kb import create_app
    from tests.conftest import isolate_requests

    app_config.update(RATELIMIT_ENABLED=True, **{limit_key: "3 per minute"})
    app = isolate_requests(create_app(app_config, instance_path=str(tmp_path / "rl")))
    with app.app_context():
        db.create_all()
        client = app.test_client()
        codes = [client.post(path, data=data).status_code for _ in range(4)]
        assert 429 not in codes[:3] and codes[3] == 429
        assert "too often" in client.post(path, data=data).get_data(as_text=True)
        assert client.get(path).status_code == 200  # reading the form is never limited
        db.session.remove()


def test_rate_limits_can_be_switched_off(app_config, tmp_path):
    from kb import create_app

    app_config.update(RATELIMIT_ENABLED=False, LOGIN_RATE_LIMIT="1 per minute")
    app = create_app(app_config, instance_path=str(tmp_path / "off"))
    with app.app_context():
        db.create_all()
        client = app.test_client()
        codes = {client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code for _ in range(3)}
        assert codes == {400}
        db.session.remove()


def test_login_takes_as_long_for_an_unknown_address(client, customer):
    """An unknown address hashes a dummy password, so timing does not tell which addresses have accounts."""
    def seconds(email):
        start = time.perf_counter()
        response = client.post("/login", data={"email": email, "password": "wrong password!"})
        elapsed = time.perf_counter() - start
        assert response.status_code == 400 and "do not match" in response.get_data(as_text=True)
        return elapsed

    known, unknown = [], []
    for number in range(5):
        known.append(seconds(customer.email))
        unknown.append(seconds(f"nobody{number}@example.com"))
    assert statistics.median(unknown) >= 0.5 * statistics.median(known), (known, unknown)
