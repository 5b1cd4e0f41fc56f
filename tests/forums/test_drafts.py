"""Drafts of signed-out visitors: one per visitor, each field cut to its form limit, and rate-limited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb.extensions import db
from kb.forums.models import Draft
from tests.conftest import login


def _drafts() -> list[Draft]:
    return db.session.scalars(select(Draft)).all()


def test_a_second_draft_replaces_the_first(client, customer, categories):
    client.post("/forums/networking/new", data={"title": "First attempt here", "body": "First text"})
    client.post("/forums/networking/new", data={"title": "Second attempt here", "body": "Second text"})
    assert db.session.scalar(select(func.count(Draft.id))) == 1
    login(client, customer)
    page = client.get("/forums/networking/new").get_data(as_text=True)
    assert "Second text" in page and "First text" not in page


def test_each_field_is_cut_to_its_form_limit(app, client, categories):
    """An anonymous visitor could store 120 KB per request; now no more than a post."""
    config = app.config
    client.post("/forums/networking/new", data={"title": "t" * 10_000, "body": "b" * 100_000, "tags": "x" * 10_000})
    data = _drafts()[0].data
    assert len(data["title"]) == config["FORUMS_TITLE_MAX_LENGTH"]
    assert len(data["body"]) == config["FORUMS_POST_MAX_LENGTH"]
    assert len(data["tags"]) == config["FORUMS_TAGS_FIELD_MAX_LENGTH"]


@pytest.fixture
def two_drafts_an_hour(app_config):
    app_config.update(RATELIMIT_ENABLED=True, FORUMS_DRAFT_RATE_LIMIT="2 per hour")


def test_drafts_per_address_are_limited_with_the_text_kept(two_drafts_an_hour, app, categories, customer):
    codes = [app.test_client().post("/forums/networking/new", data={"title": "Question here", "body": "x"}).status_code
             for _ in range(2)]  # fresh visitors: no cookie, so no draft to replace
    assert codes == [302, 302]
    response = app.test_client().post("/forums/networking/new", data={"title": "Question here", "body": "Kept words"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "Kept words" in page and "sign in first" in page
    assert len(_drafts()) == 2
    signed_in = app.test_client()
    login(signed_in, customer)
    assert signed_in.post("/forums/networking/new", data={"title": "Question here", "body": "Fine"}).status_code == 302
