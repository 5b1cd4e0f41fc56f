"""Configuration of the cases feature: policy overrides, startup checks, rate limits."""

from __future__ import annotations

import pytest

from kb.cases import actions
from kb.config import ConfigError
from tests.cases.conftest import utc
from tests.conftest import login


def test_defaults_are_set_and_environment_wins(monkeypatch, app_config, tmp_path):
    from kb import create_app

    monkeypatch.setenv("KB_CASE_TITLE_MAX_LENGTH", "99")
    app = create_app(app_config, instance_path=str(tmp_path / "env"))
    assert app.config["CASE_TITLE_MAX_LENGTH"] == 99
    assert app.config["CASE_AT_RISK_FRACTION"] == 0.25
    assert app.config["MAILIN_MAX_BYTES"] == 25 * 1024 * 1024


def test_policy_overrides_reach_the_clock_and_the_pages(app, client, customer, make_case):
    app.config.update(CASE_BUSINESS_OPENS="08:00", CASE_BUSINESS_CLOSES="16:00",
                      CASE_SLA_TARGETS={"2/standard": "4 business hours"})
    case = make_case(customer, severity=2, created_at=utc(2026, 1, 5, 14, 0))  # London = UTC in January
    assert case.response_due_at == utc(2026, 1, 6, 10, 0)  # 2 hours Monday, 2 hours Tuesday from 08:00
    page = client.get("/severity").get_data(as_text=True)
    assert "Monday to Friday, 08:00 to 16:00" in page and "4 business hours" in page


def test_bad_policy_settings_stop_the_app_with_a_clear_error(app_config, tmp_path):
    from kb import create_app

    app_config["CASE_SLA_TARGETS"] = {"2/gold": "1 hours"}
    with pytest.raises(ConfigError, match="Unknown support plan 'gold'"):
        create_app(app_config, instance_path=str(tmp_path / "bad"))


def test_case_posts_are_rate_limited(app_config, tmp_path):
    from kb import create_app
    from kb.accounts.models import Plan
    from kb.accounts.users import create_organization, create_user
    from kb.extensions import db

    app_config.update(RATELIMIT_ENABLED=True, CASE_RATE_LIMIT="2 per minute")
    app = create_app(app_config, instance_path=str(tmp_path / "rl"))
    with app.app_context():
        db.create_all()
        org = create_organization("Busy", Plan.STANDARD, "UTC")
        user = create_user("busy@example.com", "correct horse battery staple", organization=org)
        db.session.commit()
        client = app.test_client()
        login(client, user)
        data = {"title": "t", "description": "d", "severity": "4"}
        statuses = [client.post("/cases/new", data=data).status_code for _ in range(3)]
        assert statuses == [302, 302, 429]
        assert client.get("/cases/new").status_code == 200  # reading is not limited
        db.session.remove()


def test_sla_sentence_uses_the_organisation_zone(app, make_org, make_user, make_case):
    org = make_org("Kolkata Co", "premium", "Asia/Kolkata")
    user = make_user("customer", org=org)
    case = make_case(user, severity=3, created_at=utc(2026, 1, 5, 5, 0))  # 10:30 IST, 1 business day
    assert actions.sla_sentence(case) == "Our first response is due by 06 Jan 2026 10:30 IST (1 business day in business hours)."


def test_comment_and_escalation_lengths_come_from_config(app, client, customer, make_case):
    app.config.update(CASE_COMMENT_MAX_LENGTH=20, CASE_ESCALATION_REASON_MAX_LENGTH=15)
    case = make_case(customer)
    login(client, customer)
    response = client.post(f"/cases/{case.number}/comment", data={"comment-body": "x" * 21})
    assert response.status_code == 400 and "at most 20 characters" in response.get_data(as_text=True)
    assert "x" * 21 in response.get_data(as_text=True)  # what was typed is kept
    assert client.post(f"/cases/{case.number}/comment", data={"comment-body": "x" * 20}).status_code == 302
    response = client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "y" * 16})
    assert response.status_code == 400 and "at most 15 characters" in response.get_data(as_text=True)
    assert client.post(f"/cases/{case.number}/escalate", data={"escalate-reason": "y" * 15}).status_code == 302


def test_page_sizes_come_from_config(app, client, customer, staff, make_case, token_for):
    app.config.update(CASES_PER_PAGE=2, CASE_QUEUE_PER_PAGE=2, CASE_API_PER_PAGE=2)
    for n in range(3):
        make_case(customer, title=f"Paged case {n}")
    login(client, customer)
    first = client.get("/cases/").get_data(as_text=True)
    assert first.count("Paged case") == 2 and "Page 1 of 2" in first
    assert client.get("/cases/?page=2").get_data(as_text=True).count("Paged case") == 1
    api = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token_for(customer)}"}).get_json()
    assert len(api["cases"]) == 2 and api["pages"] == 2
    client.post("/logout")
    login(client, staff)
    queue_page = client.get("/staff/queue").get_data(as_text=True)
    assert queue_page.count("Paged case") == 2 and "Page 1 of 2" in queue_page


def test_comment_of_brackets_is_refused_with_the_text_kept(client, customer, make_case):
    case = make_case(customer)
    login(client, customer)
    response = client.post(f"/cases/{case.number}/comment", data={"comment-body": "[" * 19_999})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "unclosed “[”" in page and "[" * 19_999 in page


def test_api_case_with_pathological_description_is_422(client, customer, token_for):
    data = {"title": "Brackets", "description": "[" * 19_999, "severity": 4}
    response = client.post("/api/v1/cases", json=data, headers={"Authorization": f"Bearer {token_for(customer)}"})
    assert response.status_code == 422
    assert "unclosed" in response.get_json()["error"]["fields"]["description"]
