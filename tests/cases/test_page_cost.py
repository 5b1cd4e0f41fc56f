"""A signed-in case page runs the same statements whether it has one comment or twenty."""

from __future__ import annotations

from sqlalchemy import event

from kb.cases import actions
from kb.extensions import db
from tests.conftest import login


def _statements(client, url) -> int:
    client.get(url)
    found = []

    def record(*args):
        found.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(found)


def test_case_page_costs_the_same_with_1_or_20_comments(app, client, customer, staff, make_case):
    small, big = make_case(customer, title="One comment"), make_case(customer, title="Twenty comments")
    actions.add_comment(small, customer, "Still failing.")
    for number in range(20):
        actions.add_comment(big, staff if number % 2 else customer, f"Comment {number}")
    db.session.commit()
    app.config["SEARCH_DRAIN_INTERVAL"] = 0  # no index catch-up check in the middle of a count
    app.config["PAGE_CACHE_SIGNED_IN_SECONDS"] = 0  # the page itself, not the copy kept for the user
    for viewer in (customer, staff):
        login(client, viewer)
        assert _statements(client, f"/cases/{small.number}") == _statements(client, f"/cases/{big.number}"), viewer


def test_viewing_a_case_again_writes_nothing(app, client, customer, staff, make_case):
    """The first view reads the case's notifications; later views find nothing unread and leave
    the database alone (on SQLite any UPDATE waits for the site's one writer)."""
    case = make_case(customer, title="Replication stopped")
    login(client, staff)
    client.post(f"/cases/{case.number}/comment", data={"update-body": "Send the logs, please.", "update-send": "reply"})
    client.post("/logout")
    login(client, customer)
    writes = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(f"/cases/{case.number}").status_code == 200
        assert any("case_notifications" in w for w in writes)
        writes.clear()
        assert client.get(f"/cases/{case.number}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert writes == []
