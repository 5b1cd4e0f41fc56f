"""On-site notifications for case activity, in the same list as forum activity, with an unread mark on the case list."""

from __future__ import annotations

from kb.cases import actions
from kb.cases.models import CaseNotification
from kb.extensions import db
from tests.conftest import login


def page_of(response) -> str:
    return response.get_data(as_text=True)


def test_a_customer_is_notified_of_a_staff_reply_status_severity_and_resolution(client, customer, staff, make_case):
    case = make_case(customer, title="Site B stopped", severity=3)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Looking into it", "update-send": "reply"})
    client.post(f"/cases/{case.number}/comment", data={
        "update-send": "reply", "update-severity": "2", "update-severity_reason": "Recovery targets are missed"})
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Fixed by the patch", "update-send": "reply",
                                                      "update-status": "resolved"})
    client.post(f"/cases/{case.number}/comment", data={"update-body": "SECRET note", "update-send": "note"})
    client.post("/logout")
    login(client, customer)
    assert "unread" in page_of(client.get("/"))  # the count beside Notifications
    listing = page_of(client.get("/cases/?show=all"))
    assert "New activity" in listing
    page = page_of(client.get("/notifications"))
    assert "Sam Support replied on case" in page and f"#{case.number} Site B stopped" in page
    assert "changed the severity of case" in page and "Recovery targets are missed" in page
    assert "Sam Support resolved case" in page
    assert "SECRET" not in page
    # Opening the list marked them read; the staff member who acted was never notified.
    assert db.session.query(CaseNotification).filter(CaseNotification.read_at.is_(None)).count() == 0
    assert db.session.query(CaseNotification).filter(CaseNotification.user_id == staff.id).count() == 0


def test_opening_the_case_clears_its_unread_mark(client, customer, staff, make_case):
    case = make_case(customer)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Hello", "update-send": "reply"})
    client.post("/logout")
    login(client, customer)
    assert "New activity" in page_of(client.get("/cases/"))
    client.get(f"/cases/{case.number}")
    assert "New activity" not in page_of(client.get("/cases/"))


def test_customer_comment_notifies_the_assigned_staff_member(client, customer, staff, admin, make_case):
    case = make_case(customer)
    actions.assign(case, admin, staff)
    db.session.commit()
    login(client, customer)
    client.post(f"/cases/{case.number}/comment", data={"comment-body": "Logs attached"})
    client.post("/logout")
    login(client, staff)
    assert "Alice replied on case" in page_of(client.get("/notifications"))


def test_someone_who_left_the_organisation_sees_no_case_notifications(client, customer, staff, make_case, other_org):
    case = make_case(customer)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Hello", "update-send": "reply"})
    customer.organization = other_org
    db.session.commit()
    client.post("/logout")
    login(client, customer)
    page = page_of(client.get("/notifications"))
    assert case.title not in page


def test_forum_and_case_notifications_share_one_list_newest_first(client, app, customer, staff, make_case):
    from kb.forums.models import ForumCategory, Notification, Post, Thread

    category = ForumCategory(slug="general", name="General", description="", position=1,
                             read_access="everyone", post_access="users")
    thread = Thread(category=category, author=staff, title="Forum thread about VPGs")
    db.session.add_all([category, thread])
    db.session.flush()
    post = Post(thread=thread, author=staff, body="hi", body_html="<p>hi</p>")
    db.session.add(post)
    db.session.flush()
    db.session.add(Notification(user_id=customer.id, thread=thread, post_id=post.id, kind="reply", actor_id=staff.id))
    db.session.commit()
    case = make_case(customer, title="Case about VPGs")
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Hello", "update-send": "reply"})
    client.post("/logout")
    login(client, customer)
    page = page_of(client.get("/notifications"))
    assert page.index("Case about VPGs") < page.index("Forum thread about VPGs")
