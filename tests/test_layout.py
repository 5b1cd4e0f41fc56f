"""What every page's frame and the small page fixes of issue 17 give a reader, through the test client."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.articles import editing
from kb.articles.models import Category, Feedback
from kb.extensions import db
from kb.forums import threads
from kb.forums.capture import capture_thread
from kb.forums.models import ForumCategory
from kb.forums.seed import seed_categories
from kb.search.analytics import record_query
from tests.conftest import login


@pytest.fixture
def kb_category(app):
    category = Category(name="Failover and recovery", slug="failover-and-recovery", description="Tests.", position=1)
    db.session.add(category)
    db.session.commit()
    return category


@pytest.fixture
def article(app, kb_category):
    made = editing.create_article(
        title="Choose a recovery checkpoint", body="## 1. Choose a checkpoint\n\nPick one.\n\n```\nhsctl list\n```\n",
        summary="Which checkpoint to fail over to.", type="troubleshooting", category=kb_category,
        tags=("checkpoint",), versions=("8.0",), status="published")
    db.session.commit()
    return made


@pytest.fixture
def forum(app) -> dict[str, ForumCategory]:
    seed_categories()
    db.session.commit()
    return {c.slug: c for c in db.session.scalars(select(ForumCategory))}


def html(response) -> str:
    return response.get_data(as_text=True)


def header(page: str) -> str:
    return page.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]


# --- header ----------------------------------------------------------------------------------


def test_signed_in_header_holds_an_account_menu_with_notifications_profile_tokens_and_sign_out(client, customer):
    login(client, customer)
    top = header(html(client.get("/articles/")))
    menu = top.split('<details class="account-menu">', 1)[1].split("</details>", 1)[0]
    assert customer.display_name in menu.split("</summary>", 1)[0]
    assert 'href="/notifications"' in menu and 'href="/account"' in menu and 'href="/account#tokens"' in menu
    assert 'action="/logout"' in menu and 'method="post"' in menu
    assert 'class="menu-toggle"' in top and 'aria-controls="site-menu"' in top


def test_the_unread_count_shows_on_the_account_menu(client, customer, staff, forum):
    thread = threads.create_thread(forum["replication"], customer, "Journal keeps filling up", "Why?")
    db.session.commit()
    login(client, staff)
    assert client.post(f"/threads/{thread.id}/reply", data={"body": "Raise the journal hard limit."}).status_code == 302
    client.post("/logout")
    login(client, customer)
    summary = header(html(client.get("/articles/"))).split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert re.search(r'badge-count">1<span class="visually-hidden"> unread notifications', summary), summary


def test_pages_with_their_own_search_box_show_no_second_one_in_the_header(client):
    for path in ("/", "/search?q=journal"):
        page = html(client.get(path))
        assert 'id="header-q"' not in page and page.count('type="search"') == 1, path
    assert 'id="header-q"' in html(client.get("/articles/"))


# --- favicon and sitemap ----------------------------------------------------------------------


def test_favicon_is_linked_and_answers_at_the_conventional_address(client):
    assert '<link rel="icon" href="/static/favicon.svg' in html(client.get("/login"))
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml" and b"<svg" in response.data


def test_favicon_cache_lifetime_is_a_setting(app, client):
    app.config["FAVICON_MAX_AGE"] = 120
    assert "max-age=120" in client.get("/favicon.ico").headers["Cache-Control"]


def test_footer_links_a_sitemap_for_people_listing_categories_and_published_articles(client, article, kb_category):
    draft = editing.create_article(title="Unfinished draft page", body="x", summary="", type="how-to",
                                   category=kb_category, tags=(), versions=(), status="draft")
    db.session.commit()
    footer = html(client.get("/login")).split('<footer class="site-footer">', 1)[1]
    assert 'href="/sitemap"' in footer and "sitemap.xml" not in footer
    page = html(client.get("/sitemap"))
    assert "Failover and recovery" in page and f'href="/articles/{article.slug}"' in page
    assert draft.title not in page


# --- "Was this helpful?" ----------------------------------------------------------------------


def test_helpful_is_one_click_then_an_optional_comment_and_an_inline_thank_you(client, article):
    page = html(client.get(f"/articles/{article.slug}"))
    feedback = page.split('id="feedback"', 1)[1]
    assert 'name="helpful" value="yes"' in feedback and 'name="helpful" value="no"' in feedback
    assert "<textarea" not in feedback.split("</section>", 1)[0]

    response = client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#feedback")
    page = html(client.get(f"/articles/{article.slug}"))
    section = page.split('id="feedback"', 1)[1].split("</section>", 1)[0]
    assert "Thank you for your answer" in section and "You answered <strong>yes</strong>" in section
    assert "<textarea" in section and 'type="hidden" name="helpful" value="yes"' in section
    assert 'class="flash' not in page

    client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes", "comment": "Add the CLI flags."})
    vote = db.session.scalar(select(Feedback))
    assert vote.helpful is True and vote.comment == "Add the CLI flags."
    section = html(client.get(f"/articles/{article.slug}")).split('id="feedback"', 1)[1].split("</section>", 1)[0]
    assert "<textarea" not in section and "We read your comment" in section


def test_a_too_long_feedback_comment_is_refused_and_kept(app, client, article):
    client.post(f"/articles/{article.slug}/feedback", data={"helpful": "no"})
    app.config["FEEDBACK_COMMENT_MAX_LENGTH"] = 10
    response = client.post(f"/articles/{article.slug}/feedback", data={"helpful": "no", "comment": "y" * 11})
    assert response.status_code == 400
    section = html(response).split('id="feedback"', 1)[1].split("</section>", 1)[0]
    assert "at most 10 characters" in section and "y" * 11 in section


# --- confirmations and the flag form ------------------------------------------------------------


def test_revoking_a_token_and_closing_a_case_ask_first_with_and_without_script(client, customer):
    from kb.accounts.tokens import create_api_token

    create_api_token(customer, "Site B appliance")
    db.session.commit()
    login(client, customer)
    page = html(client.get("/account"))
    row = page.split("Site B appliance", 1)[1].split("</tr>", 1)[0]
    assert "data-confirm=" in row
    assert re.search(r'<noscript><label class="checkbox confirm-guard"><input type="checkbox" name="confirmed" value="yes" required>', row)
    assert 'class="table-scroll" tabindex="0" role="region" aria-label="Your API tokens"' in page


def test_case_close_button_asks_first(client, customer):
    from kb.cases import actions
    from kb.cases.urls import case_url

    case = actions.open_case(customer, title="Failover test leaves VMs without network",
                             description="No network adapter.", severity=3)
    db.session.commit()
    login(client, customer)
    page = html(client.get(case_url(case)))
    form = page.split("Close this case</button>", 1)[0].rsplit("<form", 1)[1]
    assert 'data-confirm="Close this case?' in page.split("Close this case</button>", 1)[0].rsplit("<button", 1)[1]
    assert '<input type="checkbox" name="confirmed" value="yes" required>' in form and "<noscript>" in form


def test_flag_form_preselects_no_reason_and_requires_one(client, customer, staff, forum):
    thread = threads.create_thread(forum["replication"], customer, "RPO alarm after adding a VM", "What does it mean?")
    db.session.commit()
    post = threads.first_post(thread)
    login(client, staff)
    page = html(client.get(f"/posts/{post.id}/flag"))
    assert re.search(r'<option (selected )?value="">Choose a reason…</option>', page)
    assert not re.search(r'<option selected value="[^"]+"', page)
    response = client.post(f"/posts/{post.id}/flag", data={"reason": "", "note": "Looks odd to me"})
    assert response.status_code == 400
    assert "Choose why a moderator should look at this post." in html(response) and "Looks odd to me" in html(response)


# --- search results -------------------------------------------------------------------------------


def test_facets_wait_behind_a_filter_disclosure_with_display_names(client, article):
    page = html(client.get("/search?q=checkpoint"))
    facets = page.split('<details class="search-facets"', 1)[1].split("</details>", 1)[0]
    assert "<summary>Filter" in facets
    assert ">Failover and recovery</a>" in facets and ">Troubleshooting</a>" in facets
    assert ">failover-and-recovery<" not in facets and ">troubleshooting<" not in facets
    assert page.index('class="search-facets"') < page.index('class="result-list"')


def test_a_category_renamed_through_another_worker_is_named_anew_in_the_search_facets(
        app, client, article, second_worker):
    """Each worker keeps the category names until the change counters say they changed."""
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0

    def facets() -> str:
        return html(client.get("/search?q=checkpoint")).split('<details class="search-facets"', 1)[1]

    assert ">Failover and recovery</a>" in facets()
    with second_worker.app_context():
        category = db.session.scalar(select(Category).where(Category.slug == "failover-and-recovery"))
        category.name = "Failover and disaster recovery"
        db.session.commit()
    assert ">Failover and disaster recovery</a>" in facets() and ">Failover and recovery</a>" not in facets()


def test_a_thread_is_not_listed_beside_the_article_made_from_it(client, staff, customer, forum):
    thread = threads.create_thread(forum["replication"], customer, "Shrink a journal safely", "The journal is 2 TB.")
    db.session.commit()
    answer = threads.add_reply(thread, staff, "Lower the journal hard limit, then wait.")
    threads.accept_post(answer)
    db.session.commit()
    made = capture_thread(thread, staff, f"/threads/{thread.id}")
    editing.publish(made)
    db.session.commit()
    other = threads.create_thread(forum["replication"], customer, "Journal hard limit warnings", "Shrink the journal?")
    db.session.commit()
    page = html(client.get("/search?q=journal"))
    results = page.split('class="result-list"', 1)[1]
    assert f"/articles/{made.slug}" in results
    assert f"%2Fthreads%2F{thread.id}-" not in results and f"/threads/{thread.id}-" not in results
    assert f"threads%2F{other.id}-" in results or f"/threads/{other.id}-" in results
    data = client.get("/search?q=journal&format=json").get_json()
    assert data["total"] == 3  # the JSON API still lists every document


def test_long_queries_are_truncated_in_analytics_with_the_full_text_on_hover(client, staff):
    long_query = "replication journal " * 10
    record_query(long_query.strip(), 0)
    db.session.commit()
    login(client, staff)
    page = html(client.get("/staff/search-analytics"))
    assert f'title="{long_query.strip()}"' in page
    assert f">{long_query.strip()}</a>" not in page
    assert 'class="table-scroll" tabindex="0" role="region"' in page
