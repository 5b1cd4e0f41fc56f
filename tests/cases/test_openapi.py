"""The OpenAPI document matches the routes and the JSON the code produces."""

from __future__ import annotations

import re

from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

from kb.cases import actions
from kb.cases.api import _LIMIT_KEYS, case_json
from kb.cases.openapi import CASE_INPUT_FIELDS
from kb.extensions import db


def _doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi(client):
    OPENAPI_30_VALIDATOR.validate(_doc(client))


def test_every_api_route_and_method_is_documented(app, client):
    doc = _doc(client)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], f"{method} {path}"


def test_every_input_field_is_documented(client):
    schema = _doc(client)["components"]["schemas"]["CaseInput"]
    assert set(schema["properties"]) == set(CASE_INPUT_FIELDS)
    assert set(_LIMIT_KEYS) | {"severity"} == set(CASE_INPUT_FIELDS)


def test_documented_limits_follow_the_config(app, client):
    app.config["CASE_TITLE_MAX_LENGTH"] = 77
    assert _doc(client)["components"]["schemas"]["CaseInput"]["properties"]["title"]["maxLength"] == 77


def test_every_output_field_is_documented_and_present(app, client, customer, staff, make_case):
    case = make_case(customer)
    actions.add_comment(case, staff, "Answer")
    db.session.commit()
    schemas = _doc(client)["components"]["schemas"]
    with app.test_request_context():
        summary, detail = case_json(case), case_json(case, detail=True)
    assert set(summary) == set(schemas["CaseSummary"]["properties"]) == set(schemas["CaseSummary"]["required"])
    assert set(detail) == set(schemas["CaseDetail"]["properties"]) == set(schemas["CaseDetail"]["required"])
    assert set(detail["sla"]) == set(schemas["Sla"]["properties"])
    assert set(detail["comments"][0]) == set(schemas["Comment"]["properties"])
