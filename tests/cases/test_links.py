"""Threads and cases: linking both ways, what the thread page shows to whom, resolution summaries."""

from __future__ import annotations

import pytest

from kb.cases import actions, links
from kb.cases.models import Case, CaseStatus, CaseThreadLink
from kb.extensions import db
from kb.forums.models import ForumCategory, Post
from kb.forums.threads import create_thread
from tests.conftest import login


@pytest.fixture
def category(app):
    public = ForumCategory(slug="replication", name="Replication", read_access="everyone", post_access="users")
    db.session.add(public)
    db.session.commit()
    return public


@pytest.fixture
def staff_category(app):
    private = ForumCategory(slug="staff-room", name="Staff room", read_access="staff", post_access="staff")
    db.session.add(private)
    db.session.commit()
    return private


@pytest.fixture
def thread(category, customer):
    made = create_thread(category, customer, "VPG stuck in initial sync", "Initial sync stalls at 12%.")
    db.session.commit()
    return made


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_open_a_case_from_a_thread_links_both_ways(client, customer, thread):
    login(client, customer)
    assert "Open a support case from this thread" in page(client, f"/threads/{thread.id}")
    form = page(client, f"/cases/new?thread={thread.id}")
    assert 'value="VPG stuck in initial sync"' in form and "Initial sync stalls at 12%." in form
    response = client.post("/cases/new", data={"title": "VPG stuck in initial sync", "description": "Initial sync stalls",
                                                "severity": "3", "thread": str(thread.id)})
    assert response.status_code == 302
    case = db.session.query(Case).one()
    assert [link.thread_id for link in case.thread_links] == [thread.id]
    assert f"/threads/{thread.id}" in page(client, f"/cases/{case.number}")
    aside = page(client, f"/threads/{thread.id}")
    assert f"Support case #{case.number}" in aside and "Severity 3" in aside and "New" in aside


def test_thread_aside_hides_case_details_from_others(client, customer, other_customer, staff, thread, make_case):
    case = make_case(customer, title="CONFIDENTIAL outage at Acme", severity=2)
    links.link_thread(case, thread, customer)
    db.session.commit()
    for viewer in (None, other_customer):
        if viewer:
            login(client, viewer)
        html = page(client, f"/threads/{thread.id}")
        assert "support case" not in html.lower(), "not even that a case exists"
        assert "CONFIDENTIAL" not in html and f"#{case.number}" not in html
        if viewer:
            client.post("/logout")
    login(client, staff)
    html = page(client, f"/threads/{thread.id}")
    assert "CONFIDENTIAL outage at Acme" in html and "first response due" in html


def test_thread_prefill_needs_a_readable_thread(client, customer, staff, staff_category):
    private = create_thread(staff_category, staff, "Internal escalation list", "names")
    db.session.commit()
    login(client, customer)
    assert client.get(f"/cases/new?thread={private.id}").status_code == 404
    assert client.get("/cases/new?thread=999999").status_code == 404


def test_posting_a_private_thread_id_does_not_link_it(client, customer, staff, staff_category):
    private = create_thread(staff_category, staff, "Internal", "names")
    db.session.commit()
    login(client, customer)
    client.post("/cases/new", data={"title": "t", "description": "d", "severity": "3", "thread": str(private.id)})
    assert db.session.query(CaseThreadLink).count() == 0


def test_link_an_existing_thread(client, customer, make_user, org, other_customer, staff, thread, make_case):
    case = make_case(customer)
    login(client, other_customer)
    assert client.post(f"/cases/{case.number}/link-thread", data={"link-thread": str(thread.id)}).status_code == 404
    client.post("/logout")
    colleague = make_user("customer", org=org)
    login(client, colleague)
    bad = client.post(f"/cases/{case.number}/link-thread", data={"link-thread": "not a thread"})
    assert bad.status_code == 400 and "No forum thread" in bad.get_data(as_text=True)
    not_theirs = client.post(f"/cases/{case.number}/link-thread", data={"link-thread": str(thread.id)})
    assert not_theirs.status_code == 400 and "author or support staff can link" in not_theirs.get_data(as_text=True)
    client.post("/logout")
    login(client, customer)
    ok = client.post(f"/cases/{case.number}/link-thread", data={"link-thread": f"https://support.example/threads/{thread.id}-vpg-stuck"})
    assert ok.status_code == 302
    assert db.session.query(CaseThreadLink).one().thread_id == thread.id
    again = client.post(f"/cases/{case.number}/link-thread", data={"link-thread": str(thread.id)})
    assert again.status_code == 400 and "already linked to this case" in again.get_data(as_text=True)
    other = make_case(customer, title="Second")
    clash = client.post(f"/cases/{other.number}/link-thread", data={"link-thread": str(thread.id)})
    assert clash.status_code == 400 and "another support case" in clash.get_data(as_text=True)


def test_staff_can_link_any_case(client, customer, staff, thread, make_case):
    case = make_case(customer)
    login(client, staff)
    assert client.post(f"/cases/{case.number}/link-thread", data={"link-thread": f"/threads/{thread.id}"}).status_code == 302


def test_parse_thread_ref():
    assert links.parse_thread_ref("42") == 42
    assert links.parse_thread_ref("/threads/42-some-slug") == 42
    assert links.parse_thread_ref("https://x.example/threads/42?page=2") == 42
    assert links.parse_thread_ref("/articles/42") is None
    assert links.parse_thread_ref("") is None


def test_resolution_summary_is_offered_redacted_and_posted(client, customer, staff, thread, make_case, mail_outbox):
    case = make_case(customer, severity=3)
    links.link_thread(case, thread, customer)
    actions.add_comment(case, staff, "Raise the journal size to 20 GB. Mail alice@acme.example, host 10.1.2.3, "
                                     "password=Hunter2Hunter2!")
    db.session.commit()
    login(client, staff)
    assert "Share the resolution?" not in page(client, f"/cases/{case.number}")
    client.post(f"/cases/{case.number}/status", data={"status-status": "resolved"})
    assert "Share the resolution?" in page(client, f"/cases/{case.number}")
    form = page(client, f"/cases/{case.number}/summary")
    assert "Raise the journal size to 20 GB." in form
    assert "alice@acme.example" not in form and "10.1.2.3" not in form and "Hunter2Hunter2" not in form
    response = client.post(f"/cases/{case.number}/summary", data={"body": "Fixed by raising the journal size."})
    assert response.status_code == 302
    reply = db.session.query(Post).filter_by(thread_id=thread.id, is_first=False).one()
    assert reply.body == "Fixed by raising the journal size." and reply.author == staff
    # The thread's author watches it and hears about the answer like any other reply.
    assert any(customer.email in m.envelope_rcpt and "journal size" in m.get_body(("plain",)).get_content()
               for m in mail_outbox)
    assert "Share the resolution?" not in page(client, f"/cases/{case.number}")


def test_summary_can_be_skipped_and_is_staff_only(client, customer, staff, thread, make_case):
    case = make_case(customer)
    links.link_thread(case, thread, customer)
    db.session.commit()
    login(client, customer)
    assert client.get(f"/cases/{case.number}/summary").status_code == 403
    client.post("/logout")
    login(client, staff)
    client.post(f"/cases/{case.number}/status", data={"status-status": "resolved"})
    assert client.post(f"/cases/{case.number}/summary", data={"skip": "1"}).status_code == 302
    assert "Share the resolution?" not in page(client, f"/cases/{case.number}")
    assert db.session.query(Post).filter_by(thread_id=thread.id, is_first=False).count() == 0


def test_composer_shows_severity_guidance(client, customer, category):
    login(client, customer)
    html = page(client, f"/forums/{category.slug}/new")
    assert "Choosing a severity" in html and 'href="/severity"' in html and 'href="/cases/new"' in html


def test_forum_draft_handoff(client, customer, category):
    """The forum composer's 'open a case instead' puts a draft in the session; the case form takes it."""
    login(client, customer)
    with client.session_transaction() as session:
        session["case_draft"] = {"title": "Live failover failing", "description": "Hangs at 40%"}
    html = page(client, "/cases/new?from=draft")
    assert 'value="Live failover failing"' in html and "Hangs at 40%" in html


def test_opening_from_an_already_linked_thread_still_opens_the_case(client, customer, thread, make_case):
    first = make_case(customer, title="First")
    links.link_thread(first, thread, customer)
    db.session.commit()
    login(client, customer)
    assert client.get("/cases/new?thread=99999999999999999999999").status_code == 404
    response = client.post("/cases/new", data={"title": "Second", "description": "d", "severity": "3",
                                                "thread": str(thread.id)}, follow_redirects=True)
    assert response.status_code == 200 and "already linked to another support case" in response.get_data(as_text=True)
    assert db.session.query(CaseThreadLink).one().case_id == first.id


def test_only_the_author_or_staff_may_link_a_thread(client, customer, other_customer, staff, thread, make_case):
    """Another organisation's customer used to claim a public thread for their own case."""
    theirs = make_case(other_customer, title="Globex case")
    login(client, other_customer)
    assert "Open a support case from this thread" not in page(client, f"/threads/{thread.id}")
    response = client.post(f"/cases/{theirs.number}/link-thread", data={"link-thread": str(thread.id)})
    assert response.status_code == 400 and "author or support staff can link" in response.get_data(as_text=True)
    opened = client.post("/cases/new", data={"title": "Claiming it", "description": "d", "severity": "3",
                                             "thread": str(thread.id)}, follow_redirects=True)
    assert "This case is not linked to the thread." in opened.get_data(as_text=True)
    assert db.session.query(CaseThreadLink).count() == 0
    client.post("/logout")
    login(client, customer)
    own = make_case(customer, title="Acme case")
    assert client.post(f"/cases/{own.number}/link-thread", data={"link-thread": str(thread.id)}).status_code == 302
    assert db.session.query(CaseThreadLink).one().case_id == own.id


def test_a_linked_case_shows_on_the_thread_only_to_those_who_may_see_it(client, customer, other_customer, staff,
                                                                       thread, make_case):
    case = make_case(customer, title="Acme replication case")
    login(client, staff)
    assert client.post(f"/cases/{case.number}/link-thread", data={"link-thread": str(thread.id)}).status_code == 302
    assert f"Support case #{case.number}" in page(client, f"/threads/{thread.id}")
    client.post("/logout")
    login(client, other_customer)
    assert "support case" not in page(client, f"/threads/{thread.id}").lower()


def test_a_customers_kept_thread_page_shows_the_linked_cases_new_status(app, client, customer, staff, thread,
                                                                        make_case):
    """The aside is on signed-in pages only: their kept copies end with a change to the case."""
    case = make_case(customer)
    links.link_thread(case, thread, customer)
    db.session.commit()
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    login(client, customer)
    assert CaseStatus.NEW.label in page(client, f"/threads/{thread.id}")
    assert CaseStatus.NEW.label in page(client, f"/threads/{thread.id}")
    actions.change_status(case, staff, CaseStatus.WAITING)
    db.session.commit()
    assert CaseStatus.WAITING.label in page(client, f"/threads/{thread.id}")
