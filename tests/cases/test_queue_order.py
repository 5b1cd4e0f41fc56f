"""The queue order, as stated on the page: unanswered by breach, then waiting on support, then waiting on the customer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kb.cases import actions
from kb.cases.queue import queue, queue_page
from kb.extensions import db
from tests.cases.conftest import utc
from tests.conftest import login

NOW = utc(2026, 1, 5, 12, 0)  # Monday; the org fixture is Europe/London (UTC in January)


def titles(entries) -> list[str]:
    return [entry.case.title for entry in entries]


def test_unanswered_severity_1_near_breach_is_above_every_answered_or_waiting_case(
        app, customer, other_customer, staff, make_case):
    # The reported case: an escalated Severity 3, answered and waiting on the customer...
    waiting = make_case(customer, title="escalated sev3 waiting", severity=3, created_at=NOW - timedelta(days=2))
    actions.add_comment(waiting, staff, "Please try the patch", now=NOW - timedelta(days=1))
    actions.change_status(waiting, staff, "waiting", now=NOW - timedelta(days=1))
    actions.escalate(waiting, customer, "Audit tomorrow", now=NOW - timedelta(hours=2))
    # ...and an answered Severity 2 still with support, escalated too.
    answered = make_case(customer, title="escalated sev2 answered", severity=2, created_at=NOW - timedelta(hours=3))
    actions.add_comment(answered, staff, "Looking", now=NOW - timedelta(hours=2))
    actions.escalate(answered, customer, "Faster please", now=NOW - timedelta(hours=1))
    # An unanswered Severity 1 (Standard: 4 hours 24x7) with 59 minutes left.
    sev1 = make_case(customer, title="sev1 59 minutes left", severity=1, created_at=NOW - timedelta(hours=3, minutes=1))
    db.session.commit()
    assert titles(queue(now=NOW)) == ["sev1 59 minutes left", "escalated sev2 answered", "escalated sev3 waiting"]
    assert sev1


def test_unanswered_order_is_by_soonest_breach_and_escalation_never_jumps_closer_breaches(
        app, customer, other_customer, make_case):
    overdue = make_case(customer, title="overdue sev3", severity=3, created_at=utc(2025, 12, 29, 9, 0))
    escalated = make_case(customer, title="escalated sev4", severity=4, created_at=NOW - timedelta(hours=1))
    actions.escalate(escalated, customer, "please", now=NOW)
    sev1 = make_case(customer, title="sev1", severity=1, created_at=NOW - timedelta(minutes=30))
    premium_sev2 = make_case(other_customer, title="premium sev2", severity=2, created_at=NOW - timedelta(hours=1))
    standard_sev2 = make_case(customer, title="standard sev2", severity=2, created_at=NOW - timedelta(hours=1))
    db.session.commit()
    # Premium severity 2: 5 hours 24x7; standard: 1 business day; severity 4: 5 business days.
    assert titles(queue(now=NOW)) == ["overdue sev3", "sev1", "premium sev2", "standard sev2", "escalated sev4"]
    assert overdue and sev1 and premium_sev2 and standard_sev2


def test_waiting_on_support_by_next_update_due_escalated_first(app, customer, other_customer, staff, make_case):
    soon = make_case(other_customer, title="update due soon", severity=1, created_at=NOW - timedelta(hours=2))
    actions.add_comment(soon, staff, "Hi", now=NOW - timedelta(minutes=30))  # premium sev1: due in 30 min
    later = make_case(customer, title="update due later", severity=1, created_at=NOW - timedelta(hours=2))
    actions.add_comment(later, staff, "Hi", now=NOW - timedelta(minutes=30))  # standard sev1: due in 3.5 h
    raised = make_case(customer, title="escalated, update in days", severity=4, created_at=NOW - timedelta(hours=2))
    actions.add_comment(raised, staff, "Hi", now=NOW - timedelta(minutes=30))
    actions.escalate(raised, customer, "Need this", now=NOW)
    db.session.commit()
    assert titles(queue(now=NOW)) == ["escalated, update in days", "update due soon", "update due later"]


def test_the_queue_is_paginated_in_sql_and_keeps_the_order_across_pages(app, customer, make_case):
    for n in range(7):
        make_case(customer, title=f"case {n}", severity=1 + n % 4, created_at=NOW - timedelta(minutes=n))
    everything = titles(queue(now=NOW))
    pages = [queue_page({}, None, number, 3, now=NOW) for number in (1, 2, 3)]
    assert [p.total for p in pages] == [7, 7, 7] and pages[0].pages == 3
    assert sum((titles(p.items) for p in pages), []) == everything
    assert len(queue_page({}, None, 99, 3, now=NOW).items) == 1  # past the end: the last page


def test_queue_page_states_the_order_and_labels_severity(client, staff, make_user, make_org, make_case):
    tokyo = make_org("Tokyo Co", "premium", "Asia/Tokyo")
    customer = make_user("customer", org=tokyo)
    make_case(customer, title="Tokyo outage", severity=1)
    staff.timezone = "Europe/London"
    db.session.commit()
    login(client, staff)
    page = client.get("/staff/queue").get_data(as_text=True)
    assert "Not answered yet" in page and "Waiting on the customer" in page
    assert "never above an unanswered case closer to breach" in page
    assert re.search(r'class="sev sev-1">Sev 1 · Critical<', page)
    assert "(customer:" in page and "JST" in page  # the customer's local time beside the viewer's


@pytest.mark.parametrize("page_arg", ["0", "-3", "abc", str(2**70)])
def test_odd_page_numbers_are_not_errors(client, staff, page_arg):
    login(client, staff)
    assert client.get(f"/staff/queue?page={page_arg}").status_code == 200
