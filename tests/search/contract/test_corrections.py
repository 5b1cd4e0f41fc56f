""""Did you mean" and typo expansion offer only words from pages the viewer may read."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from kb.extensions import db
from kb.forums import threads
from kb.forums.models import ForumCategory
from kb.search import search, suggest
from tests.conftest import login

ANON = AnonymousUserMixin()


@pytest.fixture
def forum(app, staff, customer):
    """A staff-only and a signed-in-only category, each with a thread holding a word of its own."""
    lounge = ForumCategory(slug="staff-lounge", name="Staff lounge", read_access="staff", post_access="staff")
    members = ForumCategory(slug="members", name="Members", read_access="users", post_access="users")
    public = ForumCategory(slug="general", name="General", read_access="everyone", post_access="users")
    db.session.add_all([lounge, members, public])
    db.session.flush()
    threads.create_thread(lounge, staff, "Escalation notes", "Customer Quillwert is unhappy about the journal.")
    threads.create_thread(members, customer, "Members chat", "Our appliance is nicknamed bramblefinch by the team.")
    threads.create_thread(public, customer, "Garden talk", "Someone planted quillwirt near the rack.")
    db.session.commit()


def test_anonymous_typos_are_never_corrected_to_staff_or_signed_in_words(forum, client):
    staff_typo = client.get("/search?q=quillwart&format=json").get_json()
    assert staff_typo["did_you_mean"] == "quillwirt"  # the public near spelling, not the staff one
    assert [r["title"] for r in staff_typo["results"]] == ["Garden talk"]
    members_typo = client.get("/search?q=bramblefnch&format=json").get_json()
    assert members_typo["did_you_mean"] is None and members_typo["total"] == 0
    assert "quillwert" not in client.get("/search?q=quillwart").get_data(as_text=True).lower()
    assert "bramblefinch" not in client.get("/search?q=bramblefnch").get_data(as_text=True).lower()
    for word in ("quillwert", "bramblefinch"):  # typed exactly: unknown to this reader, so at most
        found = client.get(f"/search?q={word}&format=json").get_json()  # a public near spelling
        assert found["did_you_mean"] in (None, "quillwirt")
        assert {r["title"] for r in found["results"]} <= {"Garden talk"}


def test_a_multi_word_search_does_not_respell_into_a_hidden_word(forum):
    # "bramblefinch" is a real word only in the members' thread: anonymously it is not known, and no
    # correction of "appliance bramblefnch" may bring it back.
    found = search("appliance bramblefnch", ANON)
    assert found.did_you_mean is None or "bramblefinch" not in found.did_you_mean
    assert not any("bramblefinch" in str(hit.snippet) for hit in found.results)


def test_readers_who_may_see_the_thread_get_the_correction(forum, client, staff, customer):
    assert search("bramblefnch", customer).did_you_mean == "bramblefinch"
    assert search("quillwart", staff).did_you_mean in ("quillwert", "quillwirt")
    assert {h.title for h in search("quillwart", staff).results} == {"Escalation notes", "Garden talk"}
    assert search("quillwart", customer).did_you_mean == "quillwirt"
    login(client, customer)
    found = client.get("/search?q=bramblefnch&format=json").get_json()
    assert found["did_you_mean"] == "bramblefinch" and found["total"] == 1


def test_type_ahead_never_completes_hidden_titles(forum, staff):
    assert suggest("escalatoin", ANON) == [] and suggest("escal", ANON) == []
    assert [s["title"] for s in suggest("escalatoin", staff)] == ["Escalation notes"]
