"""Organisation admin keeps what it is given: the form shows what is stored, and every change is audited."""

from __future__ import annotations

import re

import pytest

from kb.accounts.models import AdminAuditEntry, Plan
from kb.extensions import db
from tests.conftest import login


@pytest.fixture
def premium(make_org):
    org = make_org("Umbrella", "premium", "Asia/Tokyo")
    org.holidays = ["2026-12-31", "2027-01-01"]
    db.session.commit()
    return org


def _form_values(page: str) -> dict:
    """What a browser would submit for the organisation form as rendered."""
    selected = re.search(r'<select[^>]*name="plan"[^>]*>(.*?)</select>', page, re.S).group(1)
    plan = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', selected)
    holidays = re.search(r'<textarea[^>]*name="holidays"[^>]*>\n?(.*?)</textarea>', page, re.S).group(1)
    domains = re.search(r'<textarea[^>]*name="domains"[^>]*>\n?(.*?)</textarea>', page, re.S).group(1)
    return {
        "name": re.search(r'name="name"[^>]*value="([^"]*)"', page).group(1),
        "plan": plan.group(1) or plan.group(2),
        "timezone": re.search(r'name="timezone"[^>]*value="([^"]*)"', page).group(1),
        "holidays": holidays,
        "domains": domains,
    }


def test_edit_form_shows_what_is_stored(client, admin, premium):
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    assert values["plan"] == "premium"
    assert values["timezone"] == "Asia/Tokyo"
    assert values["holidays"].split() == ["2026-12-31", "2027-01-01"]


def test_saving_unchanged_keeps_a_premium_organisation_premium(client, admin, premium):
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    response = client.post(f"/admin/organizations/{premium.id}", data=values, follow_redirects=True)
    assert response.status_code == 200
    assert "Nothing changed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert premium.plan is Plan.PREMIUM and premium.timezone == "Asia/Tokyo"
    assert premium.holidays == ["2026-12-31", "2027-01-01"]
    assert db.session.query(AdminAuditEntry).count() == 0


@pytest.mark.parametrize("field, value, old, new", [
    ("plan", "standard", "premium", "standard"),
    ("timezone", "Europe/Paris", "Asia/Tokyo", "Europe/Paris"),
    ("holidays", "2027-01-01\n2026-12-25", "2026-12-31, 2027-01-01", "2026-12-25, 2027-01-01"),
    ("domains", "Umbrella.example\n@corp.umbrella.example", "none", "corp.umbrella.example, umbrella.example"),
])
def test_each_change_is_saved_and_audited_with_who_and_when(client, admin, premium, field, value, old, new):
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    values[field] = value
    response = client.post(f"/admin/organizations/{premium.id}", data=values, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"changed {field}" in page
    entries = db.session.query(AdminAuditEntry).all()
    assert [(e.field, e.old_value, e.new_value, e.actor_id) for e in entries] == [(field, old, new, admin.id)]
    assert entries[0].created_at is not None
    assert "Ada Admin" in page and new in page  # the audit list on the organisation page


def test_holidays_with_a_bad_date_keep_what_was_typed(client, admin, premium):
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    values.update(plan="standard", holidays="2026-12-31\nnext friday")
    response = client.post(f"/admin/organizations/{premium.id}", data=values)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "not a date" in page and "next friday" in page
    db.session.expire_all()
    assert premium.plan is Plan.PREMIUM


def test_a_domain_belongs_to_one_organisation(client, admin, premium, make_org):
    other = make_org("Initrode", "standard")
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    client.post(f"/admin/organizations/{premium.id}", data={**values, "domains": "umbrella.example"})
    values = _form_values(client.get(f"/admin/organizations/{other.id}").get_data(as_text=True))
    response = client.post(f"/admin/organizations/{other.id}", data={**values, "domains": "UMBRELLA.example"})
    assert response.status_code == 400
    assert "umbrella.example already belongs to Umbrella" in response.get_data(as_text=True)


@pytest.mark.parametrize("domain", ["not a domain", "localhost", "a..b.example", "x" * 300 + ".com", "@"])
def test_bad_domains_are_a_clear_400(client, admin, premium, domain):
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    response = client.post(f"/admin/organizations/{premium.id}", data={**values, "domains": domain})
    assert response.status_code == 400 and "is not an email domain" in response.get_data(as_text=True)


def test_domain_count_is_limited_by_a_setting(client, app, admin, premium):
    app.config["ORG_DOMAINS_MAX"] = 2
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    response = client.post(f"/admin/organizations/{premium.id}",
                           data={**values, "domains": "a.example\nb.example\nc.example"})
    assert response.status_code == 400 and "at most 2 domains" in response.get_data(as_text=True)


def test_organisation_page_lists_members_open_cases_and_domains(client, admin, premium, make_user):
    from kb.cases import actions

    member = make_user("customer", org=premium, email="kim@umbrella.example", name="Kim Member")
    case = actions.open_case(member, title="Replication stalled", description="It stopped.", severity=2)
    closed = actions.open_case(member, title="Old question", description="Answered.", severity=4)
    closed.status = actions.CaseStatus.CLOSED
    db.session.commit()
    login(client, admin)
    values = _form_values(client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True))
    client.post(f"/admin/organizations/{premium.id}", data={**values, "domains": "umbrella.example"})
    page = client.get(f"/admin/organizations/{premium.id}").get_data(as_text=True)
    assert f'href="/admin/users/{member.id}"' in page and "Kim Member" in page
    assert f'href="/cases/{case.number}"' in page and "Replication stalled" in page
    assert "Old question" not in page
    assert "verified address on umbrella.example" in page
