"""Fixtures for stored files: an app on each storage backend, and a test owner kind."""

from __future__ import annotations

import pytest

from kb.uploads.permissions import register_file_owner


@pytest.fixture(params=["filesystem", "database"])
def backend(request, app_config):
    """Run the test once per storage backend (the database one on SQLite, or PostgreSQL when configured)."""
    app_config["ATTACHMENT_STORAGE"] = request.param
    app_config["ATTACHMENT_CHUNK_BYTES"] = 4096  # several chunks even for small test files
    return request.param


@pytest.fixture
def test_owner():
    """Files of kind "test" are visible to signed-in users whose id is the file's owner_id."""
    register_file_owner("test", lambda user, f: getattr(user, "is_authenticated", False) and user.id == f.owner_id)
    return "test"
