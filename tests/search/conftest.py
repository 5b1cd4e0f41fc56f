"""Search test fixtures: the test-only note kind registered on the app."""

from __future__ import annotations

import pytest

from tests.search import notes


@pytest.fixture
def search_app(app):
    notes.register(app)
    return app
