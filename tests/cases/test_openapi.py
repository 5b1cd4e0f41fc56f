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


def _json_schema(node, components):
    """OpenAPI 3.0 schema to plain JSON Schema: refs inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        return _json_schema(components[kind][name], components)
    out = {key: _json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        out["type"] = [node["type"], "null"]
    return out


def test_responses_match_the_document(client, customer, other_customer, make_case, token_for, app):
    import jsonschema

    doc = _doc(client)
    components = doc["components"]
    token = {"Authorization": f"Bearer {token_for(customer)}"}
    foreign = make_case(other_customer)
    good = {"title": "t", "description": "d", "severity": 1, "product_version": "8.0"}
    calls = [
        ("post", "/api/v1/cases", "/api/v1/cases", {"json": good, "headers": token}),
        ("get", "/api/v1/cases", "/api/v1/cases", {"headers": token}),
        ("get", "/api/v1/cases", "/api/v1/cases?status=nope", {"headers": token}),
        ("get", "/api/v1/cases", "/api/v1/cases", {}),
        ("get", "/api/v1/cases/{number}", "/api/v1/cases/{mine}", {"headers": token}),
        ("get", "/api/v1/cases/{number}", f"/api/v1/cases/{foreign.number}", {"headers": token}),
        ("post", "/api/v1/cases", "/api/v1/cases", {"json": {"title": ""}, "headers": token}),
        ("post", "/api/v1/cases", "/api/v1/cases", {"data": "x", "headers": token}),
        ("post", "/api/v1/cases", "/api/v1/cases", {"data": "{", "headers": {**token, "Content-Type": "application/json"}}),
    ]
    mine = None
    seen = set()
    for method, documented, url, kwargs in calls:
        response = getattr(client, method)(url.replace("{mine}", str(mine)), **kwargs)
        if response.status_code == 201:
            mine = response.get_json()["number"]
        operation = doc["paths"][documented][method]
        assert str(response.status_code) in operation["responses"], (method, url, response.status_code)
        spec = _json_schema(operation["responses"][str(response.status_code)], components)
        jsonschema.validate(response.get_json(), spec["content"]["application/json"]["schema"])
        seen.add(response.status_code)
    assert seen == {200, 201, 400, 401, 404, 415, 422}
