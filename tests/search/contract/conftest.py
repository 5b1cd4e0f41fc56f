"""The contract suite runs once per engine: Whoosh always, PostgreSQL when the tests run on it."""

from __future__ import annotations

import pytest

from tests.conftest import POSTGRES_URL

ENGINES = [
    "whoosh",
    pytest.param("postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason="needs KB_TEST_DATABASE_URL")),
]


@pytest.fixture(params=ENGINES)
def search_engine(request) -> str:
    return request.param


@pytest.fixture
def app_config(app_config, search_engine):
    return {**app_config, "SEARCH_ENGINE": search_engine}
