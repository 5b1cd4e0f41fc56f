"""Watching threads and categories: emails over real SMTP, unsubscribe links, in-site notifications."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, func, select

from kb.extensions import db
from kb.forums.models import Post, Subscription, WatcherMailing
from kb.types import utcnow
from tests.conftest import login


def _reply(client, thread, body):
    response = client.post(f"/threads/{thread.id}/reply", data={"body": body})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return response


def test_reply_emails_watchers_but_not_its_author(client, mail_outbox, customer, other_customer, staff, make_thread):
    thread = make_thread(customer)  # the author watches by default
    login(client, other_customer)
    client.post(f"/threads/{thread.id}/watch", data={"watch": "1"})
    client.post("/logout")
    login(client, staff)
    _reply(client, thread, "Your journal datastore is **full**.")
    recipients = sorted(m["To"] for m in mail_outbox)
    assert recipients == sorted([customer.email, other_customer.email])
    assert staff.email not in recipients
    message = next(m for m in mail_outbox if m["To"] == customer.email)
    body = message.get_body(("plain",)).get_content()
    assert "Sam Support (support team) replied" in body and "journal datastore is **full**" in body
    assert message["List-Unsubscribe"].startswith("<http://localhost/forums/unsubscribe/")
    assert f"/threads/{thread.id}-" in body
    # The replier is not emailed about their own reply even when watching.
    mail_outbox.clear()
    client.post("/logout")
    login(client, customer)
    _reply(client, thread, "Thanks, that was it.")
    assert [m["To"] for m in mail_outbox] == [other_customer.email]


def test_unsubscribe_link_stops_the_emails(client, mail_outbox, customer, staff, make_thread):
    thread = make_thread(customer)
    login(client, staff)
    _reply(client, thread, "First answer.")
    link = re.search(r"http://localhost(/forums/unsubscribe/\S+)", mail_outbox[0].get_body(("plain",)).get_content()).group(1)
    anonymous = client.application.test_client()
    page = anonymous.get(link).get_data(as_text=True)
    assert "Unsubscribe" in page and thread.title in page
    assert anonymous.post(link).status_code == 200
    assert db.session.scalar(select(Subscription).where(Subscription.user_id == customer.id)) is None
    assert "Already unsubscribed" in anonymous.post(link).get_data(as_text=True)
    assert anonymous.get("/forums/unsubscribe/forged-token").status_code == 400
    mail_outbox.clear()
    _reply(client, thread, "Second answer.")
    assert mail_outbox == []


def test_category_watchers_hear_about_new_threads(client, mail_outbox, customer, other_customer, categories):
    login(client, other_customer)
    client.post("/forums/networking/watch", data={"watch": "1"})
    client.post("/logout")
    login(client, customer)
    client.post("/forums/networking/new", data={"title": "Which ports does pairing need?", "body": "Firewall team asks."})
    assert [m["To"] for m in mail_outbox] == [other_customer.email]
    assert "New thread in Networking" in mail_outbox[0]["Subject"]


def test_unread_count_and_notifications_page(client, customer, staff, make_thread):
    thread = make_thread(customer)
    login(client, staff)
    _reply(client, thread, "Have a look at the sizing guide.")
    client.post("/logout")
    login(client, customer)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'Notifications <span class="badge badge-count">1<span class="visually-hidden"> unread', home)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Sam Support replied to" in page and thread.title in page
    assert "badge-count" not in client.get("/").get_data(as_text=True).split("Notifications", 1)[1][:60]
    assert client.get("/notifications").status_code == 200
    client.post("/logout")
    assert client.get("/notifications").status_code == 302


def test_stop_watching(client, customer, make_thread):
    thread = make_thread(customer)
    login(client, customer)
    assert "Stop watching" in client.get(f"/threads/{thread.id}").get_data(as_text=True)
    client.post(f"/threads/{thread.id}/watch", data={"watch": "0"})
    assert "Watch this thread" in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_category_unsubscribe_and_json_like(client, mail_outbox, customer, other_customer, staff, make_thread, make_reply):
    login(client, other_customer)
    client.post("/forums/networking/watch", data={"watch": "1"})
    client.post("/logout")
    thread = make_thread(customer, slug="networking", title="Ports for pairing sites")
    login(client, staff)
    _reply(client, thread, "Ports 9071-9073.")
    message = next(m for m in mail_outbox if m["To"] == other_customer.email)
    assert "the Networking forum" in message.get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(/forums/unsubscribe/\S+)", message.get_body(("plain",)).get_content()).group(1)
    assert client.post(link).status_code == 200
    assert db.session.scalar(select(Subscription).where(Subscription.user_id == other_customer.id)) is None
    reply = make_reply(thread, customer, "Thanks!")
    response = client.post(f"/posts/{reply.id}/like", headers={"Accept": "application/json"})
    assert response.get_json() == {"liked": True, "likes": 1}


def test_the_worker_mails_only_watchers_who_still_watch_about_posts_still_shown(
        client, mail_outbox, customer, other_customer, staff, make_thread):
    """The request queues one mailing; what it says is decided when the worker writes it out: a
    watcher who stopped watching meanwhile hears nothing, and nobody hears about a reply hidden
    before the mail went."""
    thread = make_thread(customer)
    login(client, other_customer)
    client.post(f"/threads/{thread.id}/watch", data={"watch": "1"})
    client.post("/logout")
    login(client, staff)
    _reply(client, thread, "The first answer.")
    assert db.session.scalar(select(func.count()).select_from(WatcherMailing)) == 1
    db.session.execute(delete(Subscription).where(Subscription.user_id == other_customer.id))
    db.session.commit()
    assert [m["To"] for m in mail_outbox] == [customer.email]
    assert db.session.scalar(select(func.count()).select_from(WatcherMailing)) == 0

    mail_outbox.clear()
    _reply(client, thread, "A second answer, hidden at once.")
    hidden = db.session.scalar(select(Post).where(Post.body == "A second answer, hidden at once."))
    assert client.post(f"/posts/{hidden.id}/hide").status_code == 302
    assert mail_outbox == []
    assert db.session.scalar(select(func.count()).select_from(WatcherMailing)) == 0


def test_a_mailing_the_worker_has_not_written_out_counts_in_the_mail_health_check(
        app, client, mail_outbox, customer, staff, make_thread):
    app.config["MAIL_BACKLOG_MAX_AGE"] = 600
    thread = make_thread(customer)
    login(client, staff)
    _reply(client, thread, "An answer nobody has been sent yet.")
    mailing = db.session.scalar(select(WatcherMailing))
    mailing.created_at = utcnow() - timedelta(seconds=700)
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "not written out yet" in response.get_json()["checks"]["mail"]
    assert [m["To"] for m in mail_outbox] == [customer.email]  # the worker's round writes it out and sends it
    assert client.get("/healthz").status_code == 200


def test_the_unsubscribe_link_holds_when_the_sites_address_has_the_tokens_placeholder_in_it(
        app, client, mail_outbox, customer, staff, make_thread):
    app.config["SITE_URL"] = "http://localhost/TOKEN"
    thread = make_thread(customer)
    login(client, staff)
    _reply(client, thread, "An answer.")
    link = mail_outbox[0]["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://localhost/TOKEN/forums/unsubscribe/") and not link.endswith("/TOKEN")
    token = link.rsplit("/", 1)[1]
    assert client.application.test_client().post(f"/forums/unsubscribe/{token}").status_code == 200
    assert db.session.scalar(select(Subscription).where(Subscription.user_id == customer.id)) is None
