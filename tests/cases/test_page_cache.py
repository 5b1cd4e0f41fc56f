"""Case pages kept for their signed-in reader: a change to the case shows at once, and a running
clock ends the kept page when it comes due."""

from __future__ import annotations

import time
from datetime import timedelta

from kb.cases import actions
from kb.extensions import db
from kb.page_cache import state
from kb.types import utcnow
from tests.conftest import login


def _kept(app, user):
    return [entry for key, entry in state(app).viewer_store.entries.items() if key[1] == user.id]


def test_a_staff_reply_shows_on_the_customers_kept_case_page(app, client, customer, staff, make_case):
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600  # this worker sees its own commits at once
    case = make_case(customer)
    login(client, customer)
    client.get(f"/cases/{case.number}")
    client.get(f"/cases/{case.number}")
    assert len(_kept(app, customer)) == 1
    actions.add_comment(case, staff, "Please send the VPG logs.")
    db.session.commit()
    assert "Please send the VPG logs." in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_a_kept_case_page_ends_when_its_clock_comes_due(app, client, customer, make_case):
    case = make_case(customer)
    case.response_due_at = utcnow() + timedelta(seconds=2)
    db.session.commit()
    login(client, customer)
    client.get(f"/cases/{case.number}")  # reads the case's notifications: kept from the next view on
    client.get(f"/cases/{case.number}")
    (entry,) = _kept(app, customer)
    assert entry.expires - time.monotonic() <= 2.1
    case.response_due_at = utcnow() - timedelta(minutes=5)  # overdue: nothing left to run out
    db.session.commit()
    client.get(f"/cases/{case.number}")
    (entry,) = _kept(app, customer)
    assert entry.expires - time.monotonic() > 20

