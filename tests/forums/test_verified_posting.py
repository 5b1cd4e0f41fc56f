"""Accounts whose address is not confirmed post in the forums only when KB_UNVERIFIED_MAY_POST allows it."""

from __future__ import annotations

from sqlalchemy import select

from kb.accounts.models import User
from kb.extensions import db
from tests.conftest import PASSWORD, login


def register(client, email):
    return client.post("/register", data={"email": email, "display_name": "Ugo", "password": PASSWORD,
                                          "confirm": PASSWORD})


def test_unverified_accounts_post_in_forums_only_if_the_setting_allows(client, app, categories, mail_outbox):
    register(client, "ugo@example.org")
    login(client, db.session.scalar(select(User).where(User.email == "ugo@example.org")))
    data = {"title": "Journal history shorter than configured", "body": "We set 24 hours.", "tags": ""}
    app.config["UNVERIFIED_MAY_POST"] = False
    response = client.post("/forums/replication/new", data=data)
    assert response.status_code == 403 and "Confirm your email address before posting" in response.get_data(as_text=True)
    app.config["UNVERIFIED_MAY_POST"] = True
    assert client.post("/forums/replication/new", data=data).status_code == 302
