"""`kb create-org` and `kb create-user`, as scripts use them."""

from __future__ import annotations

from sqlalchemy import select

from kb.accounts.models import Organization, Role, User
from kb.extensions import db


def test_create_org_and_user(runner):
    result = runner.invoke(args=["create-org", "--name", "Acme", "--plan", "premium", "--timezone", "Europe/Berlin"])
    assert result.exit_code == 0, result.output
    assert "Created organisation 'Acme'" in result.output
    result = runner.invoke(
        args=["create-user", "--email", "Ops@Acme.example", "--role", "customer", "--org", "Acme",
              "--name", "Ops", "--password", "long enough password"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "ops@acme.example" and user.organization.name == "Acme"
    assert user.timezone == "Europe/Berlin" and user.check_password("long enough password")


def test_create_user_prompts_for_password(runner):
    result = runner.invoke(args=["create-user", "--email", "staff@x.example", "--role", "staff"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).role is Role.STAFF


def test_cli_errors_are_clear(runner):
    result = runner.invoke(args=["create-org", "--name", "X", "--timezone", "Not/AZone"])
    assert result.exit_code != 0 and "Unknown timezone" in result.output
    result = runner.invoke(args=["create-user", "--email", "a@x.example", "--org", "Missing", "--password", "p" * 12])
    assert result.exit_code != 0 and "No organisation named 'Missing'" in result.output
    result = runner.invoke(args=["create-user", "--email", "a@x.example", "--password", "short"])
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    assert db.session.scalar(select(Organization)) is None and db.session.scalar(select(User)) is None


def test_cli_reserves_staff_looking_names_for_staff(runner):
    result = runner.invoke(args=["create-user", "--email", "c@x.example", "--name", "Support\u202e Desk",
                                 "--password", "p" * 12])
    assert result.exit_code != 0 and "kept for the support team" in result.output
    result = runner.invoke(args=["create-user", "--email", "s@x.example", "--role", "staff",
                                 "--name", "Support\u202e Desk", "--password", "p" * 12])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).display_name == "Support Desk"
