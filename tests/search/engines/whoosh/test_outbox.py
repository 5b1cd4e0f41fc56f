"""Whoosh reads the outbox: requests apply rows a busy writer (or another host) left behind."""

from __future__ import annotations

from sqlalchemy import text

from kb.extensions import db
from tests.search.contract.test_cli import sneak_into_database


def test_requests_catch_up_on_leftover_rows(search_app, client):
    search_app.config["SEARCH_DRAIN_INTERVAL"] = 0.0001
    db.session.execute(text("INSERT INTO search_outbox (kind, doc_id, created) VALUES ('note', 1, '2026-01-01 00:00:00')"))
    sneak_into_database("Late platypus")
    assert client.get("/search?q=platypus&format=json").get_json()["total"] == 1
