"""The staff composer: reply and internal note are two explicit actions; one submit also sets status, severity, assignee."""

from __future__ import annotations

import re

import pytest

from kb.cases.models import CaseStatus, EventKind
from kb.extensions import db
from tests.conftest import login


def page_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def case(make_case, customer):
    return make_case(customer, title="Appliance out of memory", severity=3)


def test_the_two_modes_are_separate_buttons_and_the_note_is_labelled(client, staff, case):
    login(client, staff)
    page = page_of(client.get(f"/cases/{case.number}"))
    assert re.search(r'<button type="submit" name="update-send" value="reply"[^>]*>Send reply to customer</button>', page)
    assert re.search(r'<button type="submit" name="update-send" value="note"[^>]*>Add internal note</button>', page)
    assert "only support staff see it" in page and "Reply to customer" in page and "Internal note" in page
    assert 'name="comment-internal"' not in page  # no checkbox decides who reads the text


def test_a_note_reaches_no_customer_and_a_legacy_checkbox_cannot_make_a_reply_internal(
        client, staff, customer, case, mail_outbox):
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "STAFF-ONLY build is old", "update-send": "note"})
    assert mail_outbox == []
    # A reply stays a reply whatever else is posted; a submit without a chosen button is refused.
    response = client.post(f"/cases/{case.number}/comment", data={"update-body": "Which build?"})
    assert response.status_code == 400 and "Add internal note" in page_of(response)
    assert "Which build?" in page_of(response)  # nothing typed is lost
    db.session.refresh(case)
    assert [e.kind for e in case.events] == [EventKind.NOTE]
    client.post("/logout")
    login(client, customer)
    assert "STAFF-ONLY" not in page_of(client.get(f"/cases/{case.number}"))


def test_one_submit_replies_and_sets_status_severity_and_assignee(client, staff, customer, case, mail_outbox):
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={
        "update-body": "Please send the logs from site B.", "update-send": "reply",
        "update-status": "waiting", "update-severity": "2",
        "update-severity_reason": "Replication to site B has stopped, so this is no longer mild.",
        "update-assignee": str(staff.id),
    })
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.WAITING and case.severity == 2 and case.assignee_id == staff.id
    assert case.first_response_at is not None
    kinds = [e.kind for e in case.events]
    assert kinds[0] is EventKind.COMMENT and {EventKind.SEVERITY, EventKind.ASSIGNMENT, EventKind.STATUS} <= set(kinds)
    [message] = [m for m in mail_outbox if customer.email in m.envelope_rcpt]
    body = message.get_body(("plain",)).get_content()
    assert "Please send the logs" in body and "no longer mild" in body and "Waiting on customer" in body


def test_the_reply_button_names_the_status_it_will_set(client, staff, case):
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={
        "update-body": "", "update-send": "reply", "update-status": "waiting"})
    # An empty message with a status change is fine: the change alone is applied.
    assert response.status_code == 302
    from kb.cases.composer import button_label

    assert button_label("reply", "waiting") == "Send and set to Waiting on customer"
    assert button_label("note", "waiting") == "Add internal note"


def test_severity_change_needs_a_reason_the_customer_then_sees(client, staff, customer, case):
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={
        "update-body": "Raising this.", "update-send": "reply", "update-severity": "1"})
    assert response.status_code == 400 and "Say why the severity changes" in page_of(response)
    assert "Raising this." in page_of(response)
    db.session.refresh(case)
    assert case.severity == 3 and case.events == []
    client.post(f"/cases/{case.number}/comment", data={
        "update-send": "reply", "update-severity": "1", "update-severity_reason": "Production is now down."})
    client.post("/logout")
    login(client, customer)
    page = page_of(client.get(f"/cases/{case.number}"))
    assert "Changed the severity from 3 to" in page and "Production is now down." in page


def test_nothing_to_do_is_a_clear_400(client, staff, case):
    login(client, staff)
    response = client.post(f"/cases/{case.number}/comment", data={"update-body": "  ", "update-send": "reply"})
    assert response.status_code == 400 and "Write a message, or choose a change" in page_of(response)


def test_system_events_are_quieter_than_replies(client, staff, case):
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Hello", "update-send": "reply",
                                                      "update-status": "waiting"})
    page = page_of(client.get(f"/cases/{case.number}"))
    assert re.search(r'case-event case-event-status[^"]*case-event-system', page)
    assert not re.search(r'case-event case-event-comment[^"]*case-event-system', page)


def test_composer_refuses_a_disabled_or_non_staff_assignee(client, staff, customer, make_user, case):
    gone = make_user("staff", name="Gone Staff")
    gone.disabled = True
    db.session.commit()
    login(client, staff)
    for user in (gone, customer):
        response = client.post(f"/cases/{case.number}/comment", data={
            "update-send": "reply", "update-assignee": str(user.id)})
        assert response.status_code == 400
    db.session.refresh(case)
    assert case.assignee_id is None
