"""The composer: drafts kept through sign-in, answers before asking, outage guidance, secrets, rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.extensions import db
from kb.forums.models import Thread
from tests.conftest import PASSWORD, login
from tests.forums.conftest import age


def test_anonymous_post_keeps_the_draft_through_sign_in(client, customer, categories, make_thread):
    response = client.post(
        "/forums/networking/new",
        data={"title": "Replication blocked by the proxy", "body": "Port 9071 *times out*.", "tags": "proxy"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/forums/networking/new")
    response = client.post("/login?next=/forums/networking/new", data={"email": customer.email, "password": PASSWORD, "next": "/forums/networking/new"})
    assert response.headers["Location"] == "/forums/networking/new"
    page = client.get("/forums/networking/new").get_data(as_text=True)
    assert 'value="Replication blocked by the proxy"' in page and "Port 9071 *times out*." in page
    # Used once, then gone.
    assert "Port 9071" not in client.get("/forums/networking/new").get_data(as_text=True)


def test_anonymous_reply_keeps_the_draft(client, customer, other_customer, make_thread):
    thread = make_thread(customer)
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Try raising the journal hard limit."})
    assert response.headers["Location"] == f"/login?next=/threads/{thread.id}/reply"
    login(client, other_customer)
    page = client.get(f"/threads/{thread.id}/reply").get_data(as_text=True)
    assert "Try raising the journal hard limit." in page


def test_check_for_answers_without_script(client, customer, staff, make_thread, make_reply):
    thread = make_thread(customer, title="Journal history shorter than configured")
    reply = make_reply(thread, staff)
    thread.accepted_post_id = reply.id
    db.session.commit()
    login(client, customer)
    response = client.post(
        "/forums/replication/new", data={"title": "journal history is short", "body": "", "action": "check"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "may already answer" in page and f"/threads/{thread.id}" in page and "Solved thread" in page
    assert 'value="journal history is short"' in page
    assert db.session.scalar(select(db.func.count(Thread.id))) == 1


def test_answers_json_for_the_type_ahead(client, customer, staff, make_thread, make_reply):
    thread = make_thread(customer, title="Failover test VMs have no network")
    thread.accepted_post_id = make_reply(thread, staff).id
    db.session.commit()
    data = client.get("/forums/answers?q=failover+test+network").get_json()
    assert data["results"][0]["url"].startswith(f"/threads/{thread.id}")
    assert data["results"][0]["kind_label"] == "Solved thread"
    assert data["outage"]["detected"] is False
    data = client.get("/forums/answers?q=production+down&text=live+failover+failed").get_json()
    assert data["outage"]["detected"] is True and data["outage"]["severity"] == 1
    assert client.get("/forums/answers?q=").get_json()["results"] == []


def test_answers_leave_out_unsolved_threads(client, customer, staff, make_thread, make_reply):
    """An open question is not an answer: only articles and threads with an accepted answer are suggested."""
    solved = make_thread(customer, title="Checkpoint retention after an upgrade")
    solved.accepted_post_id = make_reply(solved, staff).id
    unsolved = [make_thread(customer, title=f"Checkpoint retention after an upgrade, case {n}") for n in range(3)]
    make_reply(unsolved[0], staff, "Which version did you upgrade from?")
    db.session.commit()
    urls = [r["url"] for r in client.get("/forums/answers?q=checkpoint+retention+upgrade").get_json()["results"]]
    assert urls == [f"/threads/{solved.id}-{solved.slug}"]
    login(client, customer)
    page = client.post(
        "/forums/replication/new", data={"title": "checkpoint retention upgrade", "body": "", "action": "check"}
    ).get_data(as_text=True)
    assert f"/threads/{solved.id}" in page
    assert not any(f"/threads/{t.id}" in page for t in unsolved)


def test_outage_text_shows_severity_guidance(client, customer, categories):
    login(client, customer)
    page = client.get("/forums/failover/new").get_data(as_text=True)
    assert 'id="outage-guidance" aria-labelledby="outage-heading" hidden' in page
    assert 'href="/severity"' in page and 'href="/cases/new"' in page
    response = client.post("/forums/failover/new", data={"title": "Live failover failed in production", "body": "help", "action": "check"})
    page = response.get_data(as_text=True)
    assert 'aria-labelledby="outage-heading" hidden' not in page and "severity 1" in page


def test_secret_in_a_post_is_caught_before_it_goes_public(client, customer, categories):
    age(customer)
    login(client, customer)
    body = "Config:\nvcenter=vc01.corp.example.com\npassword=Winter2026!\nversion 8.0.1234"
    response = client.post("/forums/networking/new", data={"title": "vCenter pairing fails", "body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This looks like it contains a secret" in page and "Password" in page and "line 3" in page
    assert "Winter2026!" in page  # only inside the textarea, kept for editing
    assert page.count("Winter2026!") == 1
    assert db.session.scalar(select(Thread)) is None
    # Edited out: it goes through.
    response = client.post("/forums/networking/new", data={"title": "vCenter pairing fails", "body": body.replace("Winter2026!", "********")})
    assert response.status_code == 302


def test_secret_can_be_confirmed_or_moved_into_a_case(client, customer, categories):
    login(client, customer)
    body = "Our token is kbt_Q2x0dE3v9S1mZkLrP8aWc7YbN4uHjG6fTqR5sK0oVxw and it fails"
    response = client.post("/forums/scripting-and-api/new", data={"title": "API returns 401 for my token", "body": body, "action": "case"})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/new?from=draft"
    with client.session_transaction() as session:
        assert session["case_draft"] == {"title": "API returns 401 for my token", "description": body, "severity": None}
    response = client.post(
        "/forums/scripting-and-api/new",
        data={"title": "API returns 401 for my token", "body": "sample kbt_EXAMPLEexampleEXAMPLEexample00 from the docs", "confirm_no_secrets": "y"},
    )
    assert response.status_code == 302


def test_secret_patterns_added_by_staff_apply(client, staff, customer, categories):
    login(client, staff)
    assert client.post("/moderation/secret-patterns", data={"name": "VPN key", "pattern": "("}).status_code == 400
    assert client.post("/moderation/secret-patterns", data={"name": "VPN key", "pattern": ".*"}).status_code == 400
    assert client.post("/moderation/secret-patterns", data={"name": "VPN key", "pattern": r"psk\s*=\s*\S{8,}"}).status_code == 302
    client.post("/logout")
    login(client, customer)
    response = client.post("/forums/networking/new", data={"title": "IPsec tunnel drops", "body": "psk = hunter2hunter2"})
    assert response.status_code == 400 and "VPN key" in response.get_data(as_text=True)


@pytest.fixture
def rate_limited(app_config):
    """Rate limits on (they are off in tests by default), set before the app is built."""
    app_config.update(RATELIMIT_ENABLED=True, FORUMS_NEW_ACCOUNT_POST_RATE_LIMIT="2 per hour")


def test_new_accounts_are_rate_limited_with_text_kept(rate_limited, make_user, client, categories):
    newbie = make_user("customer", email="newbie@example.com")
    login(client, newbie)
    for number in range(2):
        response = client.post("/forums/networking/new", data={"title": f"Question number {number}", "body": "body"})
        assert response.status_code == 302
    response = client.post("/forums/networking/new", data={"title": "Third question today", "body": "My carefully typed text"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "New accounts can post only a few times" in page
    assert 'value="Third question today"' in page and "My carefully typed text" in page
    response = client.post("/threads/1/reply", data={"body": "A reply I do not want to lose"})
    assert response.status_code == 429 and "A reply I do not want to lose" in response.get_data(as_text=True)
    # Older accounts are not held back by the new-account limit.
    age(newbie)
    assert client.post("/forums/networking/new", data={"title": "Third question today", "body": "text"}).status_code == 302


def test_disabled_rate_limit_lets_new_accounts_post(app, make_user, client, categories):
    app.config["FORUMS_NEW_ACCOUNT_POST_RATE_LIMIT"] = "1 per hour"
    newbie = make_user("customer")
    login(client, newbie)
    for number in range(3):
        assert client.post("/forums/networking/new", data={"title": f"Question number {number}", "body": "body"}).status_code == 302


def test_signed_out_edit_keeps_the_text(client, customer, make_thread):
    from tests.forums.conftest import first_post

    post = first_post(make_thread(customer))
    response = client.post(f"/posts/{post.id}/edit", data={"title": "RPO alarm after adding a VM", "body": "Better wording"})
    assert response.headers["Location"] == f"/login?next=/posts/{post.id}/edit"
    login(client, customer)
    assert "Better wording" in client.get(f"/posts/{post.id}/edit").get_data(as_text=True)


def test_title_can_be_prefilled_from_a_link(client, customer, categories):
    login(client, customer)
    page = client.get("/forums/networking/new?title=MTU+problems+after+VPN").get_data(as_text=True)
    assert 'value="MTU problems after VPN"' in page


def test_secrets_are_caught_in_replies_and_edits(client, customer, other_customer, make_thread):
    from tests.forums.conftest import first_post

    thread = make_thread(customer)
    login(client, other_customer)
    body = "Same here. Our log shows Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkciJ9.c2lnbmF0dXJl"
    response = client.post(f"/threads/{thread.id}/reply", data={"body": body})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Bearer token" in page and "Move this into a private support case" in page
    response = client.post(f"/threads/{thread.id}/reply", data={"body": body, "action": "case"})
    assert response.headers["Location"] == "/cases/new?from=draft"
    with client.session_transaction() as session:
        assert session["case_draft"]["title"] == thread.title
    client.post("/logout")
    login(client, customer)
    post = first_post(thread)
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----"
    response = client.post(f"/posts/{post.id}/edit", data={"title": thread.title, "body": pem})
    assert response.status_code == 400 and "Private key (PEM)" in response.get_data(as_text=True)


@pytest.mark.parametrize("pattern, message", [
    (r"(a+)+b", "takes too long"),
    ("a{4294967296}", "not a valid regular expression"),
])
def test_staff_pattern_that_would_hang_posts_is_a_form_error(app, client, staff, categories, pattern, message):
    app.config["FORUMS_SECRET_SCAN_TIMEOUT"] = 0.1
    login(client, staff)
    response = client.post("/moderation/secret-patterns", data={"name": "Bad one", "pattern": pattern})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and "Bad one" in page
