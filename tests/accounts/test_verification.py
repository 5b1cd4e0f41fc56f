"""Email verification, joining an organisation by its domain only once verified, invitations, and the audit list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.accounts.models import AdminAuditEntry, OrganizationDomain, Role, User
from kb.extensions import db
from tests.conftest import PASSWORD, login


def link_in(message, path: str) -> str:
    return re.search(rf"https?://[^/\s]+({path}[^\s]+)", message.get_body(("plain",)).get_content()).group(1)


@pytest.fixture
def acme_domain(org):
    org.domains.append(OrganizationDomain(domain="acme.example"))
    db.session.commit()
    return org


def register(client, email="bea@acme.example"):
    return client.post("/register", data={"email": email, "display_name": "Bea", "password": PASSWORD,
                                          "confirm": PASSWORD})


def test_a_verified_address_on_an_organisation_domain_joins_it(client, acme_domain, mail_outbox):
    register(client)
    user = db.session.scalar(select(User).where(User.email == "bea@acme.example"))
    assert user.organization is None  # not before the address is proved
    link = link_in(mail_outbox[-1], "/verify-email/")
    assert "Confirm my address" in client.get(link).get_data(as_text=True)
    db.session.refresh(user)
    assert not user.email_verified  # opening the link (a mail scanner, say) changes nothing
    response = client.post(link, follow_redirects=True)
    assert "You now have access to Acme Corp" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_verified and user.organization_id == acme_domain.id
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.user_id == user.id))
    assert entry.field == "organisation" and "verified address" in entry.new_value
    assert client.get("/cases/new").status_code == 200 and "no_organization" not in client.get("/cases/new").get_data(as_text=True)


def test_an_unverified_address_never_grants_organisation_access(client, acme_domain, customer, mail_outbox):
    from kb.cases import actions

    case = actions.open_case(customer, title="Acme private case", description="d", severity=3)
    db.session.commit()
    register(client)
    login(client, db.session.scalar(select(User).where(User.email == "bea@acme.example")))
    assert client.get(f"/cases/{case.number}").status_code == 404
    assert "Acme private case" not in client.get("/cases/").get_data(as_text=True)
    assert client.post("/cases/new", data={"title": "x", "severity": "3", "description": "y"}).status_code == 403


def test_verification_links_are_bound_to_the_address_and_expire(client, app, acme_domain, mail_outbox):
    register(client)
    link = link_in(mail_outbox[-1], "/verify-email/")
    user = db.session.scalar(select(User).where(User.email == "bea@acme.example"))
    user.email = "bea@elsewhere.example"
    db.session.commit()
    assert "invalid or expired" in client.post(link, follow_redirects=True).get_data(as_text=True)
    user.email = "bea@acme.example"
    db.session.commit()
    app.config["EMAIL_VERIFY_MAX_AGE"] = -1
    assert "invalid or expired" in client.post(link, follow_redirects=True).get_data(as_text=True)
    assert client.post("/verify-email/" + "x" * 5000, follow_redirects=True).status_code == 200


def test_resend_the_confirmation_link_from_the_account_page(client, mail_outbox):
    register(client, "ugo@example.org")
    login(client, db.session.scalar(select(User).where(User.email == "ugo@example.org")))
    assert "not confirmed yet" in client.get("/account").get_data(as_text=True)
    client.post("/account/verify-email")
    assert len(mail_outbox) == 2 and "/verify-email/" in mail_outbox[-1].get_body(("plain",)).get_content()


def test_admin_invites_a_user_who_sets_a_password_once(client, admin, org, mail_outbox):
    login(client, admin)
    assert "Invite a user" in client.get("/admin/users").get_data(as_text=True)
    response = client.post("/admin/users/invite", data={"email": "Ivy@Acme.example", "display_name": "Ivy",
                                                       "role": "staff", "organization_id": str(org.id)})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "ivy@acme.example"))
    assert user.role is Role.STAFF and user.organization_id == org.id and not user.email_verified
    link = link_in(mail_outbox[-1], "/invite/")
    client.post("/logout")
    response = client.post(link, data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("a brand new passphrase") and user.email_verified
    client.post("/logout")
    assert "already used or expired" in client.get(link, follow_redirects=True).get_data(as_text=True)


def test_invitations_expire_by_setting(client, app, admin, mail_outbox):
    login(client, admin)
    client.post("/admin/users/invite", data={"email": "late@example.org", "role": "customer", "organization_id": "0"})
    link = link_in(mail_outbox[-1], "/invite/")
    client.post("/logout")
    app.config["INVITE_MAX_AGE"] = -1
    assert "already used or expired" in client.get(link, follow_redirects=True).get_data(as_text=True)


def test_inviting_an_existing_address_is_a_clear_400(client, admin, customer):
    login(client, admin)
    response = client.post("/admin/users/invite", data={"email": customer.email, "role": "customer",
                                                       "organization_id": "0"})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_disable_re_enable_and_role_changes_are_in_the_audit_list(client, admin, customer, other_org):
    login(client, admin)
    client.post(f"/admin/users/{customer.id}", data={"role": "customer", "organization_id": str(customer.organization_id),
                                                     "disabled": "y"})
    client.post(f"/admin/users/{customer.id}", data={"role": "staff", "organization_id": str(other_org.id)})
    db.session.refresh(customer)
    assert not customer.disabled and customer.role is Role.STAFF
    fields = [(e.field, e.old_value, e.new_value) for e in db.session.scalars(
        select(AdminAuditEntry).order_by(AdminAuditEntry.id))]
    assert fields == [("disabled", "no", "yes"), ("role", "customer", "staff"),
                      ("organisation", "Acme Corp", "Globex"), ("disabled", "yes", "no")]
    page = client.get("/admin/audit").get_data(as_text=True)
    assert customer.email in page and "Globex" in page and "Ada Admin" in page
    assert client.get(f"/admin/users/{customer.id}").get_data(as_text=True).count("Acme Corp") >= 1


def test_a_disabled_user_cannot_sign_in_and_re_enabled_can(client, admin, customer):
    login(client, admin)
    client.post(f"/admin/users/{customer.id}", data={"role": "customer", "organization_id": "0", "disabled": "y"})
    client.post("/logout")
    response = client.post("/login", data={"email": customer.email, "password": PASSWORD})
    assert response.status_code == 400 and "disabled" in response.get_data(as_text=True)
    login(client, admin)
    client.post(f"/admin/users/{customer.id}", data={"role": "customer", "organization_id": "0"})
    client.post("/logout")
    login(client, customer)


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_only_admins_invite_or_read_the_audit_list(client, request, who):
    login(client, request.getfixturevalue(who))
    assert client.get("/admin/users/invite").status_code == 403
    assert client.get("/admin/audit").status_code == 403
