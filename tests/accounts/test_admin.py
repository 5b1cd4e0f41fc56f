"""Admin pages for users and organisations, and who may reach them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.accounts.models import Organization, Plan, Role
from kb.extensions import db
from tests.conftest import login


@pytest.mark.parametrize("who, status", [("customer", 403), ("staff", 403), ("admin", 200)])
def test_only_admins_reach_admin_pages(client, request, who, status):
    login(client, request.getfixturevalue(who))
    assert client.get("/admin/users").status_code == status
    assert client.get("/admin/organizations").status_code == status


def test_anonymous_is_sent_to_login(client):
    assert "/login" in client.get("/admin/users").headers["Location"]


def test_admin_changes_role_organisation_and_disables(client, admin, customer, other_org):
    login(client, admin)
    response = client.post(
        f"/admin/users/{customer.id}",
        data={"role": "staff", "organization_id": str(other_org.id), "disabled": "y"},
    )
    assert response.status_code == 302
    assert customer.role is Role.STAFF and customer.organization == other_org and customer.disabled


def test_admin_cannot_lock_themselves_out(client, admin):
    login(client, admin)
    response = client.post(f"/admin/users/{admin.id}", data={"role": "customer", "organization_id": "0"},
                           follow_redirects=True)
    assert "cannot disable yourself" in response.get_data(as_text=True)
    assert admin.role is Role.ADMIN


def test_admin_user_list_filters(client, admin, customer, staff):
    login(client, admin)
    page = client.get("/admin/users?role=staff").get_data(as_text=True)
    assert staff.email in page and customer.email not in page
    page = client.get("/admin/users?q=alice").get_data(as_text=True)
    assert customer.email in page and staff.email not in page


def test_admin_creates_and_edits_organisation(client, admin):
    login(client, admin)
    response = client.post(
        "/admin/organizations",
        data={"name": "Initech", "plan": "premium", "timezone": "Australia/Sydney", "holidays": "2026-12-25\n2026-12-26"},
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.name == "Initech"))
    assert org.plan is Plan.PREMIUM and org.holidays == ["2026-12-25", "2026-12-26"]
    response = client.post(
        f"/admin/organizations/{org.id}",
        data={"name": "Initech", "plan": "standard", "timezone": "Nowhere/Land", "holidays": "tomorrow"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Unknown timezone" in page and "not a date" in page and "Nowhere/Land" in page
    assert org.plan is Plan.PREMIUM


def test_duplicate_organisation_name(client, admin, org):
    login(client, admin)
    response = client.post("/admin/organizations", data={"name": org.name.upper(), "plan": "standard", "timezone": "UTC"})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


@pytest.mark.parametrize("zone", ["x" * 300, "Europe/" + "a" * 5000, "../../etc/passwd", "Nowhere\x00/Land"])
def test_hostile_timezone_names_are_a_clear_400(client, admin, zone):
    login(client, admin)
    response = client.post("/admin/organizations", data={"name": "Tz Test", "plan": "standard", "timezone": zone})
    assert response.status_code == 400
    assert "Unknown timezone" in response.get_data(as_text=True)
