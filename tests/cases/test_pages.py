"""Case pages driven like a user: guidance, opening, reading, commenting, staff work, access rules."""

from __future__ import annotations

import re

import pytest

from kb.cases.models import Case, CaseEvent, CaseStatus, EventKind
from kb.extensions import db
from tests.cases.conftest import utc
from tests.conftest import login


def text(response) -> str:
    return response.get_data(as_text=True)


# --- public guidance -----------------------------------------------------------------------


def test_severity_page_is_public_and_shows_the_policy(client):
    page = text(client.get("/severity"))
    for needle in ("Severity 1 – Critical", "Severity 4 – Low", "A live failover fails or hangs",
                   "5 business days", "3 business days", "1 business day", "5 hours", "4 hours", "1 hour",
                   "Monday to Friday, 09:00 to 17:00", "Standard plan: severity 1 is worked outside business hours",
                   "Premium plan: severities 1 and 2 are worked outside business hours"):
        assert needle in page, needle
    assert "<script>" not in page and " style=" not in page


@pytest.mark.parametrize(
    "query,expected",
    [
        ("production_down=yes", "Suggested: severity 1."),
        ("production_down=no&degraded=yes&workaround=no", "Suggested: severity 2."),
        ("degraded=yes&workaround=yes", "Suggested: severity 3."),
        ("question=yes", "Suggested: severity 4."),
    ],
)
def test_questionnaire_works_as_a_plain_get_form(client, query, expected):
    page = text(client.get(f"/severity?{query}"))
    assert expected in page
    # The answers stay ticked.
    first = query.split("&")[0].split("=")
    assert re.search(rf'name="{first[0]}" value="{first[1]}"[^>]*checked', page)


def test_questionnaire_json_for_the_script(client):
    data = client.get("/severity/suggest?production_down=no&degraded=yes").get_json()
    assert data["severity"] == 2 and data["label"] == "Severity 2 – High" and "severity 2" in data["reason"]
    assert client.get("/severity/suggest").get_json()["severity"] is None


def test_support_page_is_public(client):
    page = text(client.get("/support"))
    assert "Priority in the support queue" in page and "Monday to Friday, 09:00 to 17:00" in page
    assert "Severity 1 and 2" in page


def test_nav_has_support_link(client, customer):
    assert 'href="/support"' in text(client.get("/severity"))
    login(client, customer)
    assert 'href="/cases/"' in text(client.get("/severity"))


# --- opening cases -------------------------------------------------------------------------


def test_customer_without_organisation_is_told_to_ask_an_administrator(client, make_user):
    loner = make_user("customer")
    login(client, loner)
    for url in ("/cases/", "/cases/new"):
        page = text(client.get(url))
        assert "not part of a customer organisation" in page and "administrator" in page
    response = client.post("/cases/new", data={"title": "t", "description": "d", "severity": "3"})
    assert response.status_code == 403
    assert db.session.query(Case).count() == 0


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get("/cases/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_open_a_case_with_due_time_in_business_hours(client, customer, org):
    login(client, customer)
    page = text(client.get("/cases/new"))
    assert "Full severity guide" in page and "5 business days" in page and 'name="production_down"' in page
    response = client.post("/cases/new", data={
        "title": "Failover test fails at boot", "description": "VMs **do not** boot in the test network.",
        "severity": "2", "business_impact": "Quarterly DR test blocked", "environment": "2 sites, ESXi 8",
        "product_version": "8.0", "product_build": "8.0.112",
    })
    assert response.status_code == 302
    case = db.session.query(Case).one()
    assert response.headers["Location"].endswith(f"/cases/{case.number}")
    assert case.number == 10_000 + case.id
    assert case.organization == org and case.opener == customer and case.status is CaseStatus.NEW
    assert case.product_build == "8.0.112"
    assert case.response_due_at > case.created_at
    page = text(client.get(f"/cases/{case.number}"))
    assert "Failover test fails at boot" in page and "<strong>do not</strong>" in page
    assert "first response due" in page and "Quarterly DR test blocked" in page
    assert "/articles/escalating-a-support-case" in page


def test_rejected_form_keeps_what_was_typed(client, customer, app):
    login(client, customer)
    response = client.post("/cases/new", data={
        "title": "  ", "description": "My long careful description", "business_impact": "Payroll site down",
        "product_version": "8.0", "degraded": "yes",
    })
    assert response.status_code == 400
    page = text(response)
    assert "My long careful description" in page and "Payroll site down" in page
    assert "This field cannot be empty." in page and "Choose a severity" in page
    assert re.search(r'name="degraded" value="yes"[^>]*checked', page)


def test_suggest_button_keeps_the_form_and_preselects_a_severity(client, customer):
    login(client, customer)
    response = client.post("/cases/new", data={"action": "suggest", "title": "Half typed", "description": "x",
                                               "production_down": "yes"})
    assert response.status_code == 200
    page = text(response)
    assert "Suggested: severity 1." in page and 'value="Half typed"' in page
    assert re.search(r'value="1"[^>]*checked|checked[^>]*value="1"', page)
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize("field,key", [("title", "CASE_TITLE_MAX_LENGTH"), ("description", "CASE_DESCRIPTION_MAX_LENGTH"),
                                       ("business_impact", "CASE_FIELD_MAX_LENGTH"), ("product_build", "CASE_VERSION_MAX_LENGTH")])
def test_length_limits_come_from_config(client, customer, app, field, key):
    app.config[key] = 10
    login(client, customer)
    data = {"title": "ok", "description": "fine", "severity": "3", field: "x" * 11}
    response = client.post("/cases/new", data=data)
    assert response.status_code == 400 and "at most 10 characters" in text(response)
    data[field] = "x" * 10
    assert client.post("/cases/new", data=data).status_code == 302


def test_draft_from_the_forum_prefills_once(client, customer):
    login(client, customer)
    with client.session_transaction() as session:
        session["case_draft"] = {"title": "From the forum", "description": "Body from the composer"}
    page = text(client.get("/cases/new?from=draft"))
    assert 'value="From the forum"' in page and "Body from the composer" in page
    assert "From the forum" not in text(client.get("/cases/new?from=draft"))


def test_bad_severity_is_a_form_error(client, customer):
    login(client, customer)
    response = client.post("/cases/new", data={"title": "t", "description": "d", "severity": "9"})
    assert response.status_code == 400


# --- who sees what -------------------------------------------------------------------------


def test_other_organisation_gets_404_everywhere(client, customer, other_customer, make_case):
    case = make_case(customer)
    login(client, other_customer)
    n = case.number
    assert client.get(f"/cases/{n}").status_code == 404
    for url, data in ((f"/cases/{n}/comment", {"comment-body": "hi"}), (f"/cases/{n}/status", {"status-status": "closed"}),
                      (f"/cases/{n}/escalate", {"escalate-reason": "now"}), (f"/cases/{n}/watch", {"watch": "1"}),
                      (f"/cases/{n}/severity", {"severity-severity": "1"}), (f"/cases/{n}/link-thread", {"link-thread": "1"})):
        assert client.post(url, data=data).status_code == 404, url
    assert f"#{n}" not in text(client.get("/cases/?show=all"))
    assert client.get("/cases/999999").status_code == 404
    db.session.refresh(case)
    assert case.status is CaseStatus.NEW and not case.escalated and len(case.events) == 0


def test_same_organisation_colleague_sees_and_comments(client, customer, make_user, org, make_case):
    case = make_case(customer)
    colleague = make_user("customer", org=org)
    login(client, colleague)
    assert client.get(f"/cases/{case.number}").status_code == 200
    assert f"#{case.number}" in text(client.get("/cases/"))
    assert client.post(f"/cases/{case.number}/comment", data={"comment-body": "Same here"}).status_code == 302


def test_staff_see_every_case(client, customer, other_customer, staff, make_case):
    make_case(customer, title="Acme problem")
    b = make_case(other_customer, title="Globex problem")
    login(client, staff)
    page = text(client.get("/cases/"))
    assert "Acme problem" in page and "Globex problem" in page
    assert client.get(f"/cases/{b.number}").status_code == 200


def test_internal_notes_never_reach_customers(client, customer, staff, make_case):
    case = make_case(customer)
    login(client, staff)
    assert client.post(f"/cases/{case.number}/comment",
                       data={"update-body": "SECRET-NOTE customer is on an old build", "update-send": "note"}).status_code == 302
    db.session.refresh(case)
    assert case.first_response_at is None  # a note is not a response
    assert "SECRET-NOTE" in text(client.get(f"/cases/{case.number}"))
    client.post("/logout")
    login(client, customer)
    page = text(client.get(f"/cases/{case.number}"))
    assert "SECRET-NOTE" not in page and "Internal note" not in page


def test_customers_cannot_write_internal_notes(client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    client.post(f"/cases/{case.number}/comment", data={"comment-body": "Am I internal?", "comment-internal": "y"})
    event = db.session.query(CaseEvent).one()
    assert event.kind is EventKind.COMMENT


# --- the case lifecycle --------------------------------------------------------------------


def test_first_public_staff_reply_stops_the_clock_and_opens_the_case(client, customer, staff, make_case):
    case = make_case(customer, severity=2)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Looking at it now.", "update-send": "reply"})
    db.session.refresh(case)
    assert case.first_response_at is not None and case.status is CaseStatus.OPEN
    page = text(client.get(f"/cases/{case.number}"))
    assert "Responded in time" in page
    first = case.first_response_at
    client.post(f"/cases/{case.number}/comment", data={"update-body": "More.", "update-send": "reply"})
    db.session.refresh(case)
    assert case.first_response_at == first


def test_customer_reply_moves_a_waiting_case_back_to_open(client, customer, staff, make_case):
    case = make_case(customer)
    login(client, staff)
    client.post(f"/cases/{case.number}/status", data={"status-status": "waiting"})
    client.post("/logout")
    login(client, customer)
    client.post(f"/cases/{case.number}/comment", data={"comment-body": "Here are the logs."})
    db.session.refresh(case)
    assert case.status is CaseStatus.OPEN


def test_empty_comment_is_refused_and_kept(client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    response = client.post(f"/cases/{case.number}/comment", data={"comment-body": "   "})
    assert response.status_code == 400 and "cannot be empty" in text(response)


def test_customer_closes_and_reopens_but_cannot_resolve(client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    assert client.post(f"/cases/{case.number}/status", data={"status-status": "resolved"}).status_code == 403
    assert client.post(f"/cases/{case.number}/status", data={"status-status": "closed"}).status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.CLOSED
    assert "Reopen this case" in text(client.get(f"/cases/{case.number}"))
    client.post(f"/cases/{case.number}/status", data={"status-status": "open"})
    db.session.refresh(case)
    assert case.status is CaseStatus.OPEN


def test_staff_change_status_and_severity_with_history(client, customer, staff, make_case, org):
    case = make_case(customer, severity=4, created_at=utc(2026, 1, 5, 10, 0))
    old_due = case.response_due_at
    login(client, staff)
    client.post(f"/cases/{case.number}/severity", data={"severity-severity": "2", "severity-reason": "Production is affected."})
    client.post(f"/cases/{case.number}/status", data={"status-status": "waiting"})
    db.session.refresh(case)
    assert case.severity == 2 and case.status is CaseStatus.WAITING
    assert case.response_due_at == utc(2026, 1, 6, 10, 0) != old_due  # London in January is UTC
    kinds = [(e.kind, e.old_value, e.new_value) for e in case.events]
    assert (EventKind.SEVERITY, "4", "2") in kinds and (EventKind.STATUS, "new", "waiting") in kinds
    page = text(client.get(f"/cases/{case.number}"))
    assert "Changed the severity from 4 to" in page and "Sev 2 · High" in page and "Production is affected." in page
    assert "Waiting on customer" in page


def test_customers_cannot_change_severity(client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    assert client.post(f"/cases/{case.number}/severity", data={"severity-severity": "1"}).status_code == 403


def test_escalation_is_recorded_and_lifts_the_case(client, customer, staff, make_case):
    case = make_case(customer)
    login(client, customer)
    response = client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": ""})
    assert response.status_code == 400
    client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "Audit on Friday"})
    db.session.refresh(case)
    assert case.escalated and case.escalation_reason == "Audit on Friday"
    assert "Escalated" in text(client.get(f"/cases/{case.number}"))
    assert client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "again"}).status_code == 400


def test_watch_and_unwatch(client, customer, make_user, org, make_case):
    case = make_case(customer)
    colleague = make_user("customer", org=org)
    login(client, colleague)
    assert "Email me updates" in text(client.get(f"/cases/{case.number}"))
    client.post(f"/cases/{case.number}/watch", data={"watch": "1"})
    assert "Stop emails" in text(client.get(f"/cases/{case.number}"))
    client.post(f"/cases/{case.number}/watch", data={"watch": "0"})
    assert "Email me updates" in text(client.get(f"/cases/{case.number}"))


def test_due_time_is_shown_in_the_viewers_timezone(client, make_user, org, make_case):
    tokyo = make_user("customer", org=org, timezone="Asia/Tokyo")
    case = make_case(tokyo, severity=2, created_at=utc(2026, 1, 5, 10, 0))  # due Tue 10:00 London = 19:00 JST
    login(client, tokyo)
    assert "06 Jan 2026 19:00 JST" in text(client.get(f"/cases/{case.number}"))


def test_state_changes_need_csrf(app, client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    app.config["WTF_CSRF_ENABLED"] = True  # Flask-WTF reads this per request
    assert client.post("/cases/new", data={"title": "t", "description": "d", "severity": "3"}).status_code == 400
    assert client.post(f"/cases/{case.number}/comment", data={"comment-body": "x"}).status_code == 400
    assert db.session.query(Case).count() == 1 and db.session.query(CaseEvent).count() == 0


def test_nul_characters_are_dropped_from_forms(client, customer, make_case):
    login(client, customer)
    assert client.post("/cases/new", data={"title": "\x00", "description": "d", "severity": "3"}).status_code == 400
    client.post("/cases/new", data={"title": "T\x00itle", "description": "d\x00", "severity": "3"})
    case = db.session.query(Case).one()
    assert case.title == "Title" and case.description == "d"
    client.post(f"/cases/{case.number}/comment", data={"comment-body": "hi\x00 there"})
    assert case.events[-1].body == "hi there"


def test_home_page_section(client, customer, staff, make_user, make_case):
    case = make_case(customer, title="Home page case")
    page = client.get("/").get_data(as_text=True)
    assert "Home page case" not in page and "Case queue" not in page
    login(client, customer)
    assert "Home page case" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, staff)
    assert "1 open case: 0 overdue, 0 at risk, 0 with an update overdue, 1 with nobody working on it." in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, make_user("customer"))
    assert "Your organisation's open cases" not in client.get("/").get_data(as_text=True)
    assert case.number


def test_bad_calendar_data_in_the_database_does_not_break_cases(client, customer, org, make_case):
    org.holidays = ["2026-01-06", "not-a-date"]
    org.timezone = "Nowhere/Atlantis"
    db.session.commit()
    case = make_case(customer, severity=2, created_at=utc(2026, 1, 5, 10, 0))
    assert case.response_due_at == utc(2026, 1, 7, 10, 0)  # UTC instead; the valid holiday still counts
    login(client, customer)
    assert client.get(f"/cases/{case.number}").status_code == 200
