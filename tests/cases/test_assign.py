"""Assigning a case: the page offers active staff only, and the handler and the action refuse anyone else."""

from __future__ import annotations

import pytest

from kb.cases import actions
from kb.extensions import db
from tests.conftest import login


@pytest.fixture
def team(make_user):
    active = make_user("staff", name="Active Agent")
    gone = make_user("staff", name="Departed Agent")
    gone.disabled = True
    db.session.commit()
    return active, gone


def test_the_page_and_the_form_handler_agree_on_who_can_be_assigned(client, staff, customer, team, make_case):
    active, gone = team
    case = make_case(customer)
    login(client, staff)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "Active Agent" in page and "Departed Agent" not in page
    refused = client.post(f"/cases/{case.number}/assign", data={"assign-assignee": str(gone.id)})
    assert refused.status_code == 400
    assert client.post(f"/cases/{case.number}/assign", data={"assign-assignee": str(customer.id)}).status_code == 400
    db.session.expire_all()
    assert db.session.get(type(case), case.id).assignee_id is None
    assert client.post(f"/cases/{case.number}/assign", data={"assign-assignee": str(active.id)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(case), case.id).assignee_id == active.id


def test_the_assign_action_refuses_a_disabled_or_non_staff_assignee(staff, customer, team, make_case):
    active, gone = team
    case = make_case(customer)
    for wrong in (gone, customer):
        with pytest.raises(actions.CaseError, match="active support staff"):
            actions.assign(case, staff, wrong)
    assert case.assignee is None
    assert actions.assign(case, staff, active) is not None and case.assignee is active
