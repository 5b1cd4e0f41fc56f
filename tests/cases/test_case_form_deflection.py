"""The case form before submitting: answers that may already exist, the first-response due time, a carried-over severity."""

from __future__ import annotations

import re

import pytest

from kb.articles import editing
from kb.articles.models import Category
from kb.extensions import db
from kb.forums import threads
from kb.forums.seed import seed_categories
from tests.cases.conftest import utc
from tests.conftest import login


@pytest.fixture
def article(app):
    category = Category(name="Replication", slug="replication", description="", position=1)
    db.session.add(category)
    article = editing.create_article(title="Journal history shorter than configured", body="## Why\n\nThe journal fills up.\n",
                                     summary="Why journal history is short.", type="troubleshooting", category=category,
                                     tags=("journal",), versions=("8.0",), status="published")
    db.session.commit()
    return article


def _due(page: str, severity: int) -> str:
    return re.search(rf'value="{severity}"[^>]*data-due="([^"]*)"|data-due="([^"]*)"[^>]*value="{severity}"', page).group(0)


def test_case_form_suggests_articles_for_the_title_without_script(client, customer, article):
    login(client, customer)
    response = client.post("/cases/new", data={"title": "journal history is short", "description": "Typed so far",
                                               "action": "check"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "may already answer" in page and f"/articles/{article.slug}" in page
    assert "Typed so far" in page and 'value="journal history is short"' in page


def test_case_form_uses_the_forum_composers_type_ahead(client, customer):
    login(client, customer)
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'data-answers-url="/forums/answers"' in page and "data-deflect" in page and "data-deflect-text" in page
    assert "/static/js/forums.js" in page and 'id="deflection-results"' in page


def test_due_time_per_severity_in_the_customers_time(monkeypatch, client, make_org, make_user):
    # Friday 16:30 in London: half an hour of business time is left this week.
    monkeypatch.setattr("kb.cases.clocks.utcnow", lambda: utc(2026, 1, 9, 16, 30))
    customer = make_user(org=make_org("Tea Ltd", "standard", "Europe/London"), timezone="Europe/London")
    login(client, customer)
    page = client.get("/cases/new").get_data(as_text=True)
    assert "09 Jan 2026 20:30 GMT (4 hours around the clock)" in _due(page, 1)
    assert "12 Jan 2026 16:30 GMT (1 business day in business hours)" in _due(page, 2)
    assert "Choose a severity to see when our first response would be due." in page


def test_due_time_follows_plan_and_viewer_zone(monkeypatch, client, make_org, make_user):
    monkeypatch.setattr("kb.cases.clocks.utcnow", lambda: utc(2026, 1, 9, 16, 30))
    customer = make_user(org=make_org("Sushi KK", "premium", "Asia/Tokyo"), timezone="Asia/Tokyo")
    login(client, customer)
    page = client.get("/cases/new").get_data(as_text=True)
    # 01:30 on Saturday in Tokyo; severity 1 on Premium is one hour around the clock
    assert "10 Jan 2026 02:30 JST (1 hour around the clock)" in _due(page, 1)
    # severity 3 on Premium: one business day, Monday 09:00 to 17:00 Tokyo time
    assert "12 Jan 2026 17:00 JST (1 business day in business hours)" in _due(page, 3)


def test_chosen_severity_shows_its_due_time_when_the_form_comes_back(monkeypatch, client, customer):
    monkeypatch.setattr("kb.cases.clocks.utcnow", lambda: utc(2026, 1, 9, 10, 0))
    login(client, customer)
    page = client.post("/cases/new", data={"title": "", "description": "x", "severity": "1"}).get_data(as_text=True)
    box = re.search(r'<p class="case-response-due"[^>]*>(.*?)</p>', page, re.DOTALL).group(1)
    assert "09 Jan 2026 14:00 GMT (4 hours around the clock)" in box


@pytest.fixture
def forum(app):
    seed_categories()
    db.session.commit()
    from sqlalchemy import select

    from kb.forums.models import ForumCategory

    return db.session.scalar(select(ForumCategory).where(ForumCategory.slug == "failover"))


def test_severity_the_composer_suggested_is_carried_into_the_case(client, customer, forum):
    login(client, customer)
    moved = client.post("/forums/failover/new", data={"title": "Live failover failed at 40%",
                                                      "body": "Production is down since the failover.", "action": "case"})
    assert moved.headers["Location"] == "/cases/new?from=draft"
    page = client.get("/cases/new?from=draft").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="1"|value="1"[^>]*checked', page)
    assert "Severity 1 is preselected from what your forum question described" in page


def test_an_ordinary_question_moves_without_a_severity(client, customer, forum):
    login(client, customer)
    client.post("/forums/failover/new", data={"title": "How do I size the journal?", "body": "For 2 TB.", "action": "case"})
    page = client.get("/cases/new?from=draft").get_data(as_text=True)
    assert "preselected" not in page and not re.search(r'name="severity"[^>]*checked|checked[^>]*name="severity"', page)


def test_opening_a_case_from_an_outage_thread_suggests_its_severity(client, customer, forum):
    thread = threads.create_thread(forum, customer, "RPO missed on every VPG", "Since the WAN change, RPO alarm all night.")
    db.session.commit()
    login(client, customer)
    page = client.get(f"/cases/new?thread={thread.id}").get_data(as_text=True)
    assert "Severity 2 is preselected" in page


@pytest.mark.parametrize("path", ["/severity", "/cases/new"])
def test_empty_suggestion_bar_is_hidden_until_there_is_a_suggestion(client, customer, path):
    login(client, customer)
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'<div class="case-suggestion" data-suggestion aria-live="polite" hidden>', page)
    answered = client.get("/severity?production_down=yes").get_data(as_text=True)
    assert '<div class="case-suggestion" data-suggestion aria-live="polite">' in answered
