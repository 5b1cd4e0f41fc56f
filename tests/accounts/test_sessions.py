"""Revocable logins: two test clients are two browsers; copying a cookie replays what a thief kept."""

from __future__ import annotations

import time

import pytest
from flask_login.utils import encode_cookie

from kb import create_app
from kb.accounts.tokens import make_reset_token
from kb.config import ConfigError
from kb.extensions import db
from tests.conftest import PASSWORD, login

REMEMBER = "remember_token"


def browser(app, user=None, remember=False):
    """A new test client, signed in through the login form when a user is given."""
    client = app.test_client()
    if user is not None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "remember": "y" if remember else ""})
        assert response.status_code == 302
    return client


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def replay(app, source, *names):
    """A third browser holding only copies of ``source``'s cookies (all of them when no name is given)."""
    thief = app.test_client()
    for cookie in source._cookies.values():
        if not names or cookie.key in names:
            thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def test_logout_signs_out_every_browser_and_old_cookies(app, customer):
    here, there = browser(app, customer), browser(app, customer, remember=True)
    kept_session, kept_remember = replay(app, here, "session"), replay(app, there, REMEMBER)
    assert signed_in(kept_session) and signed_in(kept_remember)
    here.post("/logout")
    for client in (here, there, kept_session, kept_remember):
        assert not signed_in(client)
    assert signed_in(browser(app, customer)), "signing in again works"


def test_sign_out_everywhere_button(app, customer):
    here, there = browser(app, customer), browser(app, customer, remember=True)
    assert "Sign out everywhere" in here.get("/account").get_data(as_text=True)
    response = here.post("/account/sign-out-everywhere", follow_redirects=True)
    assert "signed out on every device" in response.get_data(as_text=True)
    assert not signed_in(here) and not signed_in(there) and not signed_in(replay(app, there, REMEMBER))


def test_sign_out_everywhere_needs_a_csrf_token(app_config, tmp_path, customer):
    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config, instance_path=str(tmp_path / "csrf-instance"))
    with app.app_context():
        other = app.test_client()
        page = other.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        other.post("/login", data={"email": customer.email, "password": PASSWORD, "csrf_token": token})
        assert signed_in(other)
        other.post("/account/sign-out-everywhere")
        assert signed_in(other)


def test_password_change_keeps_this_browser_and_ends_the_others(app, customer):
    here, there = browser(app, customer, remember=True), browser(app, customer, remember=True)
    old_here = replay(app, here)
    response = here.post("/account", data={"action": "password", "password-current_password": PASSWORD,
                                            "password-password": "a brand new passphrase",
                                            "password-confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert signed_in(here)
    assert signed_in(replay(app, here, REMEMBER)), "this browser's remember cookie was renewed"
    assert not signed_in(there) and not signed_in(old_here) and not signed_in(replay(app, there, REMEMBER))


def test_password_reset_ends_every_session(app, customer):
    signed, remembered = browser(app, customer), browser(app, customer, remember=True)
    with app.test_request_context():
        token = make_reset_token(customer)
    response = app.test_client().post(f"/reset-password/{token}",
                                      data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert not signed_in(signed) and not signed_in(remembered)


@pytest.mark.parametrize("change", [{"disabled": "y", "role": "customer"}, {"role": "staff"}])
def test_disabling_or_a_role_change_ends_every_session(app, admin, customer, change):
    victim = browser(app, customer, remember=True)
    stolen = replay(app, victim, REMEMBER)
    admin_browser = browser(app, admin)
    response = admin_browser.post(f"/admin/users/{customer.id}",
                                  data={"organization_id": str(customer.organization_id), **change})
    assert response.status_code == 302
    assert not signed_in(victim) and not signed_in(stolen)
    if change.get("disabled"):
        admin_browser.post(f"/admin/users/{customer.id}",
                           data={"organization_id": str(customer.organization_id), "role": "customer"})
        assert not customer.disabled
        assert not signed_in(stolen), "re-enabling the account does not revive an old cookie"


def test_saving_a_user_without_changes_keeps_them_signed_in(app, admin, customer):
    victim = browser(app, customer)
    browser(app, admin).post(f"/admin/users/{customer.id}",
                             data={"organization_id": str(customer.organization_id), "role": "customer"})
    assert signed_in(victim)


def test_remember_cookie_alone_signs_in_and_differs_per_login(app, customer):
    first = browser(app, customer, remember=True)
    cookie = first.get_cookie(REMEMBER).value
    assert signed_in(replay(app, first, REMEMBER))
    time.sleep(1.01)
    assert browser(app, customer, remember=True).get_cookie(REMEMBER).value != cookie


def test_remember_cookie_older_than_the_lifetime_is_refused(app, customer):
    """A correctly signed cookie, as a browser might keep past its expiry, is checked on the server too."""
    lifetime = app.config["LOGIN_LIFETIME_DAYS"] * 86400
    with app.test_request_context():
        old = encode_cookie(f"{customer.id}:{customer.session_version}:{int(time.time()) - lifetime - 60}")
        recent = encode_cookie(f"{customer.id}:{customer.session_version}:{int(time.time()) - lifetime + 60}")
        no_version = encode_cookie(str(customer.id))
    for value, works in ((old, False), (recent, True), (no_version, False)):
        client = app.test_client()
        client.set_cookie(REMEMBER, value)
        assert signed_in(client) is works, value


def test_remember_cookie_has_the_session_cookie_flags_and_the_named_lifetime(app_config, tmp_path, customer):
    app_config.update(SESSION_COOKIE_SECURE=True, LOGIN_LIFETIME_DAYS=7)
    app = create_app(app_config, instance_path=str(tmp_path / "secure-instance"))
    with app.app_context():
        response = app.test_client().post("/login", data={"email": customer.email, "password": PASSWORD,
                                                          "remember": "y"}, base_url="https://localhost")
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    for name in ("session", REMEMBER):
        header = cookies[name]
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header, header
    assert "Max-Age=604800" in cookies[REMEMBER] or "Expires=" in cookies[REMEMBER]
    remembered_for = app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    assert remembered_for == 7 * 86400


@pytest.mark.parametrize("days", [0, -1, "thirty", 10_000])
def test_login_lifetime_must_be_sensible(app_config, tmp_path, days):
    app_config["LOGIN_LIFETIME_DAYS"] = days
    with pytest.raises(ConfigError, match="KB_LOGIN_LIFETIME_DAYS"):
        create_app(app_config, instance_path=str(tmp_path / "bad-instance"))


def test_session_version_survives_in_the_database(app, customer):
    before = customer.session_version
    customer.display_name = "Alice Renamed"
    db.session.commit()
    assert customer.session_version == before, "a profile edit does not sign anyone out"
    login(app.test_client(), customer)
    assert customer.session_version == before
