"""The cases API: bearer tokens only, JSON in and out, the right status for every failure."""

from __future__ import annotations

import json

import pytest

from kb.cases import actions
from kb.cases.models import Case
from kb.extensions import db
from tests.conftest import login

GOOD = {"title": "Appliance out of memory", "description": "The VRA restarts every hour.", "severity": 2,
        "product_version": "8.0", "product_build": "8.0.114"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_open_and_read_a_case(client, customer, token_for, org):
    token = token_for(customer)
    response = client.post("/api/v1/cases", json=GOOD, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    case = db.session.query(Case).one()
    assert body["number"] == case.number and body["product_build"] == "8.0.114" and body["severity"] == 2
    assert case.source == "api" and case.organization == org
    assert response.headers["Location"].endswith(f"/api/v1/cases/{case.number}")
    assert body["sla"]["state"] == "on_track" and body["response_due_at"]
    listed = client.get("/api/v1/cases", headers=bearer(token)).get_json()
    assert [c["number"] for c in listed["cases"]] == [case.number] and listed["total"] == 1
    one = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token)).get_json()
    assert one["description"] == GOOD["description"] and one["comments"] == []


def test_other_organisation_gets_404_and_an_empty_list(client, customer, other_customer, make_case, token_for):
    case = make_case(customer)
    token = token_for(other_customer)
    response = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token))
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
    assert client.get("/api/v1/cases?status=all", headers=bearer(token)).get_json()["cases"] == []


def test_internal_notes_never_appear_in_the_api(client, customer, staff, make_case, token_for):
    case = make_case(customer)
    actions.add_comment(case, staff, "INTERNAL-ONLY detail", internal=True)
    actions.add_comment(case, staff, "Public answer")
    db.session.commit()
    raw = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token_for(customer))).get_data(as_text=True)
    assert "Public answer" in raw and "INTERNAL-ONLY" not in raw


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer kbt_nope"}, {"Authorization": "Basic abc"}])
def test_missing_or_bad_token_is_401(client, headers):
    for method, url in (("get", "/api/v1/cases"), ("post", "/api/v1/cases"), ("get", "/api/v1/cases/10001")):
        response = getattr(client, method)(url, json=GOOD, headers=headers)
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in response.get_json()["error"]["message"]


def test_a_browser_session_does_not_authenticate_the_api(client, customer):
    login(client, customer)
    assert client.post("/api/v1/cases", json=GOOD).status_code == 401
    assert client.get("/api/v1/cases").status_code == 401
    assert db.session.query(Case).count() == 0


def test_disabled_account_token_is_refused(client, customer, token_for):
    token = token_for(customer)
    customer.disabled = True
    db.session.commit()
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401


def test_user_without_organisation_gets_403(client, make_user, token_for):
    loner = make_user("customer")
    response = client.post("/api/v1/cases", json=GOOD, headers=bearer(token_for(loner)))
    assert response.status_code == 403 and "organisation" in response.get_json()["error"]["message"]


def test_wrong_content_type_is_415(client, customer, token_for):
    response = client.post("/api/v1/cases", data="title=x", headers={**bearer(token_for(customer)),
                                                                   "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_malformed_json_is_400(client, customer, token_for):
    headers = {**bearer(token_for(customer)), "Content-Type": "application/json"}
    assert client.post("/api/v1/cases", data="{not json", headers=headers).status_code == 400
    assert client.post("/api/v1/cases", data="[1, 2]", headers=headers).status_code == 400


def test_too_large_body_is_413(client, customer, token_for, app):
    app.config["CASE_API_MAX_BODY"] = 200
    body = dict(GOOD, description="x" * 300)
    response = client.post("/api/v1/cases", json=body, headers=bearer(token_for(customer)))
    assert response.status_code == 413 and "200 bytes" in response.get_json()["error"]["message"]


INVALID = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": None}, "title"),
    ({"description": 5}, "description"),
    ({"severity": 0}, "severity"),
    ({"severity": "1"}, "severity"),
    ({"severity": True}, "severity"),
    ({"severity": 1.5}, "severity"),
    ({"colour": "red"}, "colour"),
    ({"product_build": "b" * 41}, "product_build"),
]


def test_invalid_fields_are_422_with_reasons(client, customer, token_for):
    headers = {**bearer(token_for(customer)), "Content-Type": "application/json"}
    for change, field in INVALID:
        response = client.post("/api/v1/cases", data=json.dumps({**GOOD, **change}), headers=headers)
        assert response.status_code == 422, change
        assert field in response.get_json()["error"]["fields"], change
    assert db.session.query(Case).count() == 0


def test_missing_severity_is_422(client, customer, token_for):
    body = {k: v for k, v in GOOD.items() if k != "severity"}
    response = client.post("/api/v1/cases", json=body, headers=bearer(token_for(customer)))
    assert response.status_code == 422 and "severity" in response.get_json()["error"]["fields"]


def test_bad_query_parameters_are_400(client, customer, token_for):
    headers = bearer(token_for(customer))
    for query in ("status=maybe", "page=0", "page=abc", "per_page=1000"):
        assert client.get(f"/api/v1/cases?{query}", headers=headers).status_code == 400, query


def test_wrong_method_is_a_json_405(client, customer, token_for):
    response = client.delete("/api/v1/cases/10001", headers=bearer(token_for(customer)))
    assert response.status_code == 405 and response.is_json


def test_rate_limit_is_429(app_config, tmp_path):
    from kb import create_app
    from kb.accounts.models import Plan
    from kb.accounts.tokens import create_api_token
    from kb.accounts.users import create_organization, create_user

    app_config.update(RATELIMIT_ENABLED=True, CASE_API_RATE_LIMIT="2 per minute")
    app = create_app(app_config, instance_path=str(tmp_path / "rl"))
    with app.app_context():
        db.create_all()
        org = create_organization("Limited", Plan.STANDARD, "UTC")
        user = create_user("rl@example.com", "correct horse battery staple", organization=org)
        _, token = create_api_token(user, "t")
        db.session.commit()
        client = app.test_client()
        statuses = [client.get("/api/v1/cases", headers=bearer(token)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = client.get("/api/v1/cases", headers=bearer(token))
        assert response.is_json and response.get_json()["error"]["status"] == 429
        db.session.remove()


def test_staff_token_lists_all_cases(client, customer, other_customer, staff, make_case, token_for):
    make_case(customer)
    make_case(other_customer)
    assert client.get("/api/v1/cases", headers=bearer(token_for(staff))).get_json()["total"] == 2


def test_nul_characters_are_dropped(client, customer, token_for):
    body = {**GOOD, "title": "Nul\x00 in title", "description": "a\x00b", "environment": "x\x00"}
    response = client.post("/api/v1/cases", json=body, headers=bearer(token_for(customer)))
    assert response.status_code == 201
    case = db.session.query(Case).one()
    assert (case.title, case.description, case.environment) == ("Nul in title", "ab", "x")
    only_nul = client.post("/api/v1/cases", json={**GOOD, "title": "\x00\x00"}, headers=bearer(token_for(customer)))
    assert only_nul.status_code == 422
