"""The staff queue order and filters, and `kb sla-sweep` alerting once per state change."""

from __future__ import annotations

from datetime import timedelta

from kb.cases import actions
from kb.cases.queue import queue
from kb.extensions import db
from tests.cases.conftest import utc
from tests.conftest import login

# Monday 5 January 2026, 12:00 UTC. The org fixture is Europe/London (UTC in January).
NOW = utc(2026, 1, 5, 12, 0)


def test_queue_filters(app, customer, other_customer, make_case, staff):
    a = make_case(customer, title="A", severity=1)
    b = make_case(other_customer, title="B", severity=3)
    actions.assign(b, staff, staff)
    db.session.commit()
    assert [e.case.title for e in queue({"severity": "1"})] == ["A"]
    assert [e.case.title for e in queue({"plan": "premium"})] == ["B"]
    assert [e.case.title for e in queue({"assignee": "me"}, viewer=staff)] == ["B"]
    assert [e.case.title for e in queue({"assignee": "none"}, viewer=staff)] == ["A"]
    assert [e.case.title for e in queue({"sla": "on_track"})] == ["A", "B"]
    assert queue({"escalated": "yes"}) == []
    assert queue({"severity": "junk", "sla": "junk"}) and a


def test_queue_page_is_staff_only_and_shows_who_works_each_case(client, customer, staff, make_case):
    case = make_case(customer, title="Needs an owner", severity=2)
    login(client, customer)
    assert client.get("/staff/queue").status_code == 403
    client.post("/logout")
    login(client, staff)
    page = client.get("/staff/queue").get_data(as_text=True)
    assert "Needs an owner" in page and "Take" in page
    assert client.post(f"/cases/{case.number}/assign", data={"take": "1", "back": "queue"}).status_code == 302
    page = client.get("/staff/queue?assignee=me").get_data(as_text=True)
    assert "Needs an owner" in page and staff.display_name in page
    assert client.get("/staff/queue?severity=4").get_data(as_text=True).count("Needs an owner") == 0


def sweep(runner, now):
    result = runner.invoke(args=["sla-sweep", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_sweep_alerts_once_per_state_change(runner, customer, staff, admin, make_case, mail_outbox):
    # Severity 2 standard: 8 business hours. Opened Monday 09:00 London (= UTC in January).
    case = make_case(customer, title="Sweep me", severity=2, created_at=utc(2026, 1, 5, 9, 0))
    out = sweep(runner, utc(2026, 1, 5, 12, 0))
    assert "0 alerts queued" in out and mail_outbox == []
    out = sweep(runner, utc(2026, 1, 5, 15, 30))  # 6.5 of 8 hours used: under 25% left
    assert f"Case #{case.number}: at risk (1 hour 30 minutes left)" in out
    assert len(mail_outbox) == 1 and sorted(mail_outbox[0].envelope_rcpt) == sorted([staff.email, admin.email])
    assert "at risk" in str(mail_outbox[0]["Subject"])
    out = sweep(runner, utc(2026, 1, 5, 16, 0))
    assert "0 alerts queued" in out and len(mail_outbox) == 1
    out = sweep(runner, utc(2026, 1, 5, 17, 30))
    assert f"Case #{case.number}: overdue (overdue by 30 minutes)" in out
    assert len(mail_outbox) == 2 and "overdue" in str(mail_outbox[1]["Subject"])
    sweep(runner, utc(2026, 1, 6, 9, 0))
    assert len(mail_outbox) == 2


def test_sweep_emails_the_assignee_only(runner, customer, staff, admin, make_case, mail_outbox):
    case = make_case(customer, severity=1, created_at=utc(2026, 1, 5, 9, 0))
    actions.assign(case, admin, staff)
    db.session.commit()
    out = sweep(runner, utc(2026, 1, 5, 14, 0))  # four 24x7 hours: an hour overdue
    assert "overdue" in out and staff.email in out
    assert [m.envelope_rcpt for m in mail_outbox] == [[staff.email]]


def test_sweep_ignores_answered_and_closed_cases(runner, customer, staff, make_case, mail_outbox):
    answered = make_case(customer, severity=1, created_at=utc(2026, 1, 5, 9, 0))
    actions.add_comment(answered, staff, "Hello", now=utc(2026, 1, 5, 9, 30))
    closed = make_case(customer, severity=1, created_at=utc(2026, 1, 5, 9, 0))
    actions.change_status(closed, customer, "closed")
    db.session.commit()
    assert "Checked 0 open unanswered cases; 0 alerts queued" in sweep(runner, utc(2026, 1, 6, 9, 0))


def test_sweep_jumps_straight_to_breached_and_severity_change_rearms(runner, customer, staff, make_case, mail_outbox):
    case = make_case(customer, severity=2, created_at=utc(2026, 1, 5, 9, 0))
    assert "overdue" in sweep(runner, utc(2026, 1, 6, 9, 30))
    assert len(mail_outbox) == 1
    actions.change_severity(case, staff, 4, "Only a question after all.")
    db.session.commit()
    assert "0 alerts queued" in sweep(runner, utc(2026, 1, 6, 9, 30))


def test_sweep_rejects_a_naive_time(runner):
    result = runner.invoke(args=["sla-sweep", "--now", "2026-01-05T10:00:00"])
    assert result.exit_code != 0 and "UTC offset" in result.output


def test_at_risk_fraction_is_configurable(app, customer, make_case):
    case = make_case(customer, severity=2, created_at=utc(2026, 1, 5, 9, 0))
    at = utc(2026, 1, 5, 13, 30)  # 4.5 of 8 hours used: 44% left
    assert actions.sla_status(case, at).state == "on_track"
    app.config["CASE_AT_RISK_FRACTION"] = 0.5
    assert actions.sla_status(case, at).state == "at_risk"
