"""The update cadence: pure clock functions, the case's clock through replies and waiting, the page, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.cases import actions, sla
from kb.cases.clocks import update_status
from kb.cases.models import CaseStatus
from kb.extensions import db
from tests.cases.conftest import utc
from tests.conftest import login

MONDAY_10 = utc(2026, 1, 5, 10, 0)  # London is UTC in January


# --- pure functions ---------------------------------------------------------------------------


def test_every_severity_and_plan_has_an_update_target():
    for severity in sla.SEVERITIES:
        for plan in sla.PLANS:
            assert sla.DEFAULT_POLICY.update_target(severity, plan).amount > 0


def test_severity_1_premium_is_updated_every_hour_around_the_clock():
    saturday_night = utc(2026, 1, 10, 23, 30)
    assert sla.update_due(1, "premium", saturday_night, "UTC") == utc(2026, 1, 11, 0, 30)
    assert sla.update_due(1, "standard", saturday_night, "UTC") == utc(2026, 1, 11, 3, 30)


def test_business_day_update_skips_the_weekend_and_holidays():
    friday_16 = utc(2026, 1, 9, 16, 0)
    # Severity 2 standard: one business day (8 hours): 1 hour on Friday, 7 on Monday.
    assert sla.update_due(2, "standard", friday_16, "Europe/London") == utc(2026, 1, 12, 16, 0)
    assert sla.update_due(2, "standard", friday_16, "Europe/London", ["2026-01-12"]) == utc(2026, 1, 13, 16, 0)


def test_time_used_before_a_pause_is_carried_over():
    # Two of the four hours were used before the case waited on the customer.
    assert sla.update_due(1, "standard", MONDAY_10, "UTC", used=timedelta(hours=2)) == MONDAY_10 + timedelta(hours=2)
    assert sla.update_due(1, "standard", MONDAY_10, "UTC", used=timedelta(hours=9)) == MONDAY_10  # overdue already
    used = sla.update_clock_used(2, "standard", utc(2026, 1, 9, 16, 0), utc(2026, 1, 12, 10, 0), "UTC",
                                 used=timedelta(minutes=30))
    assert used == timedelta(hours=2, minutes=30)  # 30 min before + Friday 16-17 + Monday 09-10


def test_fraction_left_and_overrides():
    assert sla.update_fraction_left(1, "premium", MONDAY_10, MONDAY_10 + timedelta(minutes=45), "UTC") == 0.25
    policy = sla.make_policy(update_targets={"1/premium": "2 hours"})
    assert sla.update_due(1, "premium", MONDAY_10, "UTC", policy=policy) == MONDAY_10 + timedelta(hours=2)
    with pytest.raises(ValueError, match="3 business days"):
        sla.make_policy(update_targets={"1/premium": "soon"})


def test_a_bad_update_target_setting_stops_the_app(app_config, tmp_path):
    from kb import create_app
    from kb.config import ConfigError

    with pytest.raises(ConfigError, match="KB_CASE_UPDATE_TARGETS"):
        create_app({**app_config, "CASE_UPDATE_TARGETS": {"9/premium": "1 hours"}}, instance_path=str(tmp_path / "i"))


# --- the clock on a case -------------------------------------------------------------------------


@pytest.fixture
def premium_customer(make_user, make_org):
    org = make_org("Premium Co", "premium", "UTC")
    return make_user("customer", org=org, email="pat@premium.example", name="Pat")


def test_public_reply_starts_and_restarts_the_clock_notes_do_not(app, premium_customer, staff, make_case):
    case = make_case(premium_customer, severity=1, created_at=MONDAY_10)
    assert update_status(case, MONDAY_10) is None  # before the first response only that clock runs
    actions.add_comment(case, staff, "Looking now", now=MONDAY_10 + timedelta(minutes=20))
    assert case.next_update_due_at == MONDAY_10 + timedelta(minutes=80)
    actions.add_comment(case, staff, "internal only", internal=True, now=MONDAY_10 + timedelta(minutes=50))
    assert case.next_update_due_at == MONDAY_10 + timedelta(minutes=80)
    assert update_status(case, MONDAY_10 + timedelta(minutes=70)).state == "at_risk"
    assert update_status(case, MONDAY_10 + timedelta(minutes=90)).state == "breached"
    actions.add_comment(case, staff, "Update: found it", now=MONDAY_10 + timedelta(minutes=90))
    assert case.next_update_due_at == MONDAY_10 + timedelta(minutes=150)
    assert update_status(case, MONDAY_10 + timedelta(minutes=95)).state == "on_track"


def test_waiting_on_the_customer_pauses_and_their_answer_resumes(app, premium_customer, staff, make_case):
    case = make_case(premium_customer, severity=1, created_at=MONDAY_10)
    actions.add_comment(case, staff, "Please send logs", now=MONDAY_10)
    actions.change_status(case, staff, "waiting", now=MONDAY_10 + timedelta(minutes=40))
    assert case.next_update_due_at is None
    assert update_status(case, MONDAY_10 + timedelta(hours=5)).state == "paused"
    actions.add_comment(case, premium_customer, "Logs attached", now=MONDAY_10 + timedelta(hours=5))
    assert case.status is CaseStatus.OPEN
    # 40 of the 60 minutes were used before the pause: 20 are left.
    assert case.next_update_due_at == MONDAY_10 + timedelta(hours=5, minutes=20)


def test_resolving_stops_and_severity_change_moves_the_clock(app, premium_customer, staff, make_case):
    case = make_case(premium_customer, severity=2, created_at=MONDAY_10)
    actions.add_comment(case, staff, "On it", now=MONDAY_10)
    assert case.next_update_due_at == MONDAY_10 + timedelta(hours=4)
    actions.change_severity(case, staff, 1, "Production is down now", now=MONDAY_10 + timedelta(minutes=10))
    assert case.next_update_due_at == MONDAY_10 + timedelta(hours=1)
    actions.change_status(case, staff, "resolved", now=MONDAY_10 + timedelta(minutes=30))
    assert case.next_update_due_at is None and update_status(case).state == "stopped"


def test_case_page_and_queue_show_next_update_due(client, premium_customer, staff, make_case):
    case = make_case(premium_customer, severity=1)
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Working on it", "update-send": "reply"})
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "Next update" in page and "next update due" in page
    assert "next update due" in client.get("/staff/queue").get_data(as_text=True)
    client.post("/logout")
    login(client, premium_customer)
    assert "next update due" in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_severity_page_shows_the_update_targets(client):
    page = client.get("/severity").get_data(as_text=True)
    assert "How often we update you" in page and "every 1 hour" in page


# --- the sweep --------------------------------------------------------------------------------


def _sweep(runner, now):
    result = runner.invoke(args=["sla-sweep", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_sweep_alerts_update_at_risk_and_overdue_once_each(runner, premium_customer, staff, make_case, mail_outbox):
    case = make_case(premium_customer, severity=1, created_at=MONDAY_10)
    actions.add_comment(case, staff, "First look", now=MONDAY_10)
    db.session.commit()
    assert "0 update alerts queued" in _sweep(runner, MONDAY_10 + timedelta(minutes=30))
    out = _sweep(runner, MONDAY_10 + timedelta(minutes=50))
    assert f"Case #{case.number}: next update at risk (10 minutes left)" in out
    assert "1 update alert queued" in out and "Next update at risk" in str(mail_outbox[-1]["Subject"])
    assert "0 update alerts queued" in _sweep(runner, MONDAY_10 + timedelta(minutes=55))
    out = _sweep(runner, MONDAY_10 + timedelta(minutes=70))
    assert "next update overdue (overdue by 10 minutes)" in out
    sent = len(mail_outbox)
    assert "0 update alerts queued" in _sweep(runner, MONDAY_10 + timedelta(minutes=90))
    assert len(mail_outbox) == sent
    # A public reply restarts the clock and re-arms the alerts.
    actions.add_comment(case, staff, "Still on it", now=MONDAY_10 + timedelta(minutes=95))
    db.session.commit()
    assert "1 update alert queued" in _sweep(runner, MONDAY_10 + timedelta(minutes=145))


def test_sweep_skips_cases_waiting_on_the_customer(runner, premium_customer, staff, make_case, mail_outbox):
    case = make_case(premium_customer, severity=1, created_at=MONDAY_10)
    actions.add_comment(case, staff, "Need logs", now=MONDAY_10)
    actions.change_status(case, staff, "waiting", now=MONDAY_10 + timedelta(minutes=5))
    db.session.commit()
    assert "checked 0 answered cases for updates; 0 update alerts queued" in _sweep(runner, MONDAY_10 + timedelta(hours=3))
