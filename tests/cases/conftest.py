"""Fixtures for case tests: cases opened through the real logic, API tokens, a known 'now'."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kb.accounts.tokens import create_api_token
from kb.cases import actions
from kb.extensions import db


@pytest.fixture
def make_case(app):
    def make(opener, title="Replication to site B stopped", description="Since 10:00 the VPG shows errors.",
             severity=3, created_at=None, **extra):
        case = actions.open_case(opener, title=title, description=description, severity=severity,
                                 now=created_at, **extra)
        db.session.commit()
        return case

    return make


@pytest.fixture
def token_for(app):
    def make(user, name="product"):
        _, plaintext = create_api_token(user, name)
        db.session.commit()
        return plaintext

    return make


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
