"""schemathesis against the app's own OpenAPI document: no 500s, and every answer matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.security.conftest import record


@pytest.fixture(scope="module")
def api_schema(world):
    if "cases_api.openapi" not in world.app.view_functions:
        pytest.skip("the cases API (/api/v1/openapi.json) is not built yet")
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_match_the_schema(case, world):
    """A customer's and a staff member's bearer token; every documented check (server errors,
    status codes, content types, headers, response bodies, auth not ignored)."""
    excluded = ()
    if case.method.upper() == "GET":
        # A list endpoint may ignore query parameters it does not know, as most HTTP APIs do.
        excluded = (negative_data_rejection,)
    for role in ("customer", "staff"):
        record("schemathesis_cases")
        case.call_and_validate(headers={"Authorization": f"Bearer {world.tokens[role]}"},
                               excluded_checks=excluded)
