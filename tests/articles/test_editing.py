"""Writing the knowledge base: who may, the editor and its preview, history, restore, status, feedback, review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.articles import editing, queries
from kb.articles.models import Article, ArticleStatus, Feedback, Revision
from kb.extensions import db
from kb.types import utcnow
from tests.conftest import login

FORM = {
    "title": "Resize a journal",
    "summary": "Grow a journal without pausing replication.",
    "type": "how-to",
    "category": "0",
    "tags": "Journal, sizing, journal",
    "versions": "7.3, 8.0",
    "body": "## Before you start\n\nCheck free space.\n\n## Steps\n\n1. Open the group.\n2. Resize.\n",
    "message": "First version",
}

STAFF_PAGES = [
    ("get", "/articles/new"),
    ("post", "/articles/new"),
    ("get", "/articles/{slug}/edit"),
    ("post", "/articles/{slug}/edit"),
    ("post", "/articles/preview"),
    ("post", "/articles/{slug}/publish"),
    ("post", "/articles/{slug}/archive"),
    ("post", "/articles/{slug}/unpublish"),
    ("post", "/articles/{slug}/review"),
    ("get", "/articles/{slug}/history"),
    ("post", "/articles/{slug}/revisions/{rev}/restore"),
    ("get", "/staff/articles/review"),
]


@pytest.fixture
def article(make_article):
    return make_article()


def _url(template, article):
    rev = db.session.scalar(select(Revision.id).where(Revision.article_id == article.id))
    return template.format(slug=article.slug, rev=rev)


def test_anonymous_visitors_are_sent_to_sign_in(client, article):
    for method, template in STAFF_PAGES:
        response = getattr(client, method)(_url(template, article), data=FORM)
        assert response.status_code == 302, (method, template)
        assert "/login" in response.headers["Location"]


def test_customers_get_403_and_nothing_changes(client, customer, article):
    login(client, customer)
    before = (article.title, article.status, db.session.scalar(select(func.count(Revision.id))))
    for method, template in STAFF_PAGES:
        response = getattr(client, method)(_url(template, article), data=FORM)
        assert response.status_code == 403, (method, template)
        assert "Not allowed" in response.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.get(Article, article.id)
    assert (after.title, after.status, db.session.scalar(select(func.count(Revision.id)))) == before


def test_new_article_prefills_title_from_query(client, staff):
    login(client, staff)
    page = client.get("/articles/new?title=rpo+exceeded+after+upgrade").get_data(as_text=True)
    assert 'value="rpo exceeded after upgrade"' in page
    assert '<label for="body">Body (Markdown)</label>' in page


def test_staff_create_a_draft_then_publish(client, staff, category):
    login(client, staff)
    response = client.post("/articles/new", data=dict(FORM, category=str(category.id)))
    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    assert response.headers["Location"].endswith("/articles/resize-a-journal")
    assert article.status is ArticleStatus.DRAFT and article.author_id == staff.id
    assert article.tags == ["journal", "sizing"] and article.versions == ["7.3", "8.0"]
    assert article.category_id == category.id
    assert '<h2 id="before-you-start">' in article.html and "<ol>" in article.html
    revision = db.session.scalar(select(Revision))
    assert revision.message == "First version" and revision.editor_id == staff.id
    assert client.post("/articles/resize-a-journal/publish").status_code == 302
    db.session.refresh(article)
    assert article.status is ArticleStatus.PUBLISHED and article.published_at is not None
    client.post("/logout")
    assert client.get("/articles/resize-a-journal").status_code == 200


def test_save_and_publish_in_one_step(client, staff):
    login(client, staff)
    client.post("/articles/new", data=dict(FORM, action="publish"))
    assert db.session.scalar(select(Article)).status is ArticleStatus.PUBLISHED


def test_chosen_slug_and_duplicate_titles(client, staff):
    login(client, staff)
    client.post("/articles/new", data=dict(FORM, slug="journal-resize"))
    client.post("/articles/new", data=FORM)
    client.post("/articles/new", data=FORM)
    slugs = set(db.session.scalars(select(Article.slug)))
    assert slugs == {"journal-resize", "resize-a-journal", "resize-a-journal-2"}
    response = client.post("/articles/new", data=dict(FORM, slug="journal-resize"))
    assert response.status_code == 400
    assert "Another article already uses this address." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": ""}, "Give the article a title."),
        ({"body": ""}, "Write the article&#39;s body."),
        ({"body": "[" * 19_999}, "unclosed “[”"),
        ({"body": ">" * 20_000}, "levels deep"),
        ({"title": "x" * 201}, "The title can be at most 200 characters"),
        ({"slug": "Not A Slug"}, "Use lowercase letters"),
        ({"slug": "new"}, "Use lowercase letters"),
        ({"tags": ",".join(f"t{n}" for n in range(13))}, "Use at most 12 tags."),
        ({"tags": "bad tag!"}, "may only contain letters"),
        ({"versions": "8.0, <script>"}, "is not a product version"),
        ({"type": "novel"}, "Not a valid choice"),
        ({"category": "999"}, "Not a valid choice"),
    ],
)
def test_rejected_form_keeps_what_was_typed(client, staff, change, message):
    login(client, staff)
    data = dict(FORM, body="## Kept\n\nMy long careful text.", **{k: v for k, v in change.items() if k != "body"})
    if "body" in change:
        data["body"] = change["body"]
    response = client.post("/articles/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if "body" not in change:
        assert "My long careful text." in page
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_limits_come_from_config(client, app, staff):
    app.config.update(ARTICLE_BODY_MAX_LENGTH=50, ARTICLE_TAGS_MAX=2, ARTICLE_SUMMARY_MAX_LENGTH=5,
                      ARTICLE_REVISION_MESSAGE_MAX_LENGTH=3)
    login(client, staff)
    page = client.post("/articles/new", data=dict(FORM, body="x" * 51, tags="a,b,c")).get_data(as_text=True)
    assert "The body can be at most 50 characters" in page
    assert "Use at most 2 tags." in page
    assert "The summary can be at most 5 characters" in page
    assert "The change note can be at most 3 characters" in page
    assert client.post("/articles/preview", data={"body": "y" * 51}).status_code == 413


def test_hostile_markdown_in_an_article_body_is_stored_sanitized(client, staff):
    login(client, staff)
    hostile = (
        "## Hi <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <script>alert(2)</script>\n\n"
        "<iframe src=https://evil.example></iframe><a href=\"&#106;avascript:alert(3)\">y</a>"
        "<div style=\"color:red\" onclick=\"alert(4)\">z</div>"
    )
    client.post("/articles/new", data=dict(FORM, body=hostile, action="publish"))
    article = db.session.scalar(select(Article))
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "style="):
        assert bad not in article.html.lower()
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "onerror" not in page and "<script>alert" not in page and "<iframe" not in page


def test_preview_button_without_script_rerenders_with_preview(client, staff):
    login(client, staff)
    response = client.post("/articles/new", data=dict(FORM, action="preview", body="## Preview me\n\n**bold**"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<h2 id="preview-me">Preview me</h2>' in page and "<strong>bold</strong>" in page
    assert "## Preview me" in page  # the textarea keeps the source
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_live_preview_endpoint_returns_sanitized_fragment(client, staff):
    login(client, staff)
    response = client.post("/articles/preview", data={"body": "## Hello\n\n<script>x</script>[a](javascript:x)"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<h2 id="hello">Hello</h2>' in html and '<a href="#hello">Hello</a>' in html
    assert "<script" not in html and "javascript:" not in html and "<html" not in html


def test_edit_keeps_a_revision_and_history_shows_a_diff(client, staff, article):
    login(client, staff)
    page = client.get(f"/articles/{article.slug}/edit").get_data(as_text=True)
    assert "Open TCP 9071." in page and 'value="firewall, ports"' in page
    base = db.session.scalar(select(Revision.id))
    response = client.post(f"/articles/{article.slug}/edit", data=dict(
        FORM, title=article.title, body="## Ports\n\nOpen TCP 9071 and TCP 9072.\n", message="Add 9072",
        base_revision=str(base), type="troubleshooting"))
    assert response.status_code == 302
    db.session.refresh(article)
    assert "9072" in article.html and article.type.value == "troubleshooting"
    history = client.get(f"/articles/{article.slug}/history").get_data(as_text=True)
    assert "Add 9072" in history and "Sam Support" in history
    assert 'class="diff-line diff-del"><span class="visually-hidden">Removed: </span><span aria-hidden="true">− </span>Open TCP 9071.' in history
    assert "Open TCP 9071 and TCP 9072." in history and "diff-add" in history


def test_history_compares_any_two_revisions(client, staff, article):
    login(client, staff)
    for n in range(2, 5):
        editing.apply_changes(article, title=article.title, body=f"Version {n}", category=article.category, editor=staff)
        db.session.commit()
    ids = list(db.session.scalars(select(Revision.id).order_by(Revision.id)))
    page = client.get(f"/articles/{article.slug}/history?from={ids[0]}&to={ids[2]}").get_data(as_text=True)
    assert "Changes from revision 1 to revision 3" in page
    assert "Version 3" in page and "Version 4" not in page.split("diff-heading")[1]
    assert client.get(f"/articles/{article.slug}/history?from=99999").status_code == 404
    same = client.get(f"/articles/{article.slug}/history?from={ids[1]}&to={ids[1]}").get_data(as_text=True)
    assert "These two revisions have the same words." in same


def test_restore_an_old_revision_adds_a_new_one(client, staff, article):
    login(client, staff)
    first = db.session.scalar(select(Revision))
    editing.apply_changes(article, title="Renamed", body="Replaced text", category=article.category, editor=staff)
    db.session.commit()
    response = client.post(f"/articles/{article.slug}/revisions/{first.id}/restore")
    assert response.status_code == 302
    db.session.refresh(article)
    assert article.title == "Open the replication ports" and "Open TCP 9071." in article.html
    revisions = list(db.session.scalars(select(Revision).order_by(Revision.id)))
    assert len(revisions) == 3 and revisions[-1].message == "Restored revision 1"


def test_restore_rejects_another_articles_revision(client, staff, article, make_article):
    login(client, staff)
    other = make_article(title="Other")
    foreign = db.session.scalar(select(Revision).where(Revision.article_id == other.id))
    assert client.post(f"/articles/{article.slug}/revisions/{foreign.id}/restore").status_code == 404


def test_concurrent_edit_is_refused_without_losing_text(client, staff, article):
    login(client, staff)
    stale = db.session.scalar(select(Revision.id))
    editing.apply_changes(article, title=article.title, body="Someone else's words", category=article.category,
                          editor=staff)
    db.session.commit()
    response = client.post(f"/articles/{article.slug}/edit", data=dict(FORM, body="My words", base_revision=str(stale)))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this article" in page and "My words" in page


def test_archive_hides_the_article_and_publish_brings_it_back(client, staff, article):
    login(client, staff)
    client.post(f"/articles/{article.slug}/archive")
    client.post("/logout")
    assert client.get(f"/articles/{article.slug}").status_code == 404
    login(client, staff)
    client.post(f"/articles/{article.slug}/publish")
    client.post("/logout")
    assert client.get(f"/articles/{article.slug}").status_code == 200


def test_status_change_needs_csrf_when_enabled(app, client, staff, article):
    login(client, staff)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/articles/{article.slug}/archive").status_code == 400
    assert client.post("/articles/preview", data={"body": "x"}).status_code == 400
    db.session.refresh(article)
    assert article.status is ArticleStatus.PUBLISHED


# --- feedback ---------------------------------------------------------------------------------


def test_anonymous_feedback_one_vote_per_session(client, article):
    response = client.post(f"/articles/{article.slug}/feedback", data={"helpful": "no", "comment": "Port 9073?"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#feedback")
    client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"})
    db.session.refresh(article)
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    votes = list(db.session.scalars(select(Feedback)))
    assert len(votes) == 1 and votes[0].comment == "Port 9073?" and votes[0].user_id is None
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "You answered <strong>yes</strong>" in page


def test_each_session_and_user_votes_once(app, article, customer, other_customer):
    for user in (customer, other_customer, customer):
        client = app.test_client()
        login(client, user)
        client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"})
    app.test_client().post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"})
    db.session.refresh(article)
    assert article.helpful_yes == 3
    assert db.session.scalar(select(func.count(Feedback.id))) == 3


def test_feedback_validation(client, app, article):
    response = client.post(f"/articles/{article.slug}/feedback", data={"helpful": "maybe"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    app.config["FEEDBACK_COMMENT_MAX_LENGTH"] = 10
    response = client.post(f"/articles/{article.slug}/feedback", data={"helpful": "no", "comment": "x" * 11})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Your comment can be at most 10 characters" in page and "x" * 11 in page
    assert db.session.scalar(select(func.count(Feedback.id))) == 0


@pytest.fixture
def strict_limits(app_config):
    app_config.update(RATELIMIT_ENABLED=True, FEEDBACK_RATE_LIMIT="2 per minute")


def test_feedback_rate_limited(strict_limits, client, make_article):
    article = make_article()
    codes = [client.post(f"/articles/{article.slug}/feedback", data={"helpful": "yes"}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_staff_see_feedback_counts_and_comments(client, staff, article):
    editing.record_feedback(article, False, "Missing the UDP port.", session_key="abc")
    editing.record_feedback(article, True, "", session_key="def")
    db.session.commit()
    assert "Missing the UDP port." not in client.get(f"/articles/{article.slug}").get_data(as_text=True)
    login(client, staff)
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "1 found it helpful, 1 did not (50% helpful)" in page
    assert "Missing the UDP port." in page


# --- freshness --------------------------------------------------------------------------------


def _queue(app, **overrides):
    config = {"max_age_days": app.config["ARTICLE_REVIEW_MAX_AGE_DAYS"],
              "ratio_threshold": app.config["ARTICLE_HELPFUL_RATIO_THRESHOLD"],
              "min_votes": app.config["ARTICLE_HELPFUL_MIN_VOTES"],
              "window_days": app.config["ARTICLE_HELPFUL_WINDOW_DAYS"], "current_version": "8.0"}
    config.update(overrides)
    return {item.article.slug: item.reasons for item in queries.review_queue(**config)}


def test_review_queue_reasons(app, make_article, staff):
    fresh = make_article(title="Fresh")
    editing.mark_reviewed(fresh, staff, "8.0")
    old = make_article(title="Old")
    editing.mark_reviewed(old, staff, "8.0")
    old.reviewed_at = utcnow() - timedelta(days=200)
    unhelpful = make_article(title="Unhelpful")
    editing.mark_reviewed(unhelpful, staff, "8.0")
    for n in range(5):
        editing.record_feedback(unhelpful, n == 0, "", session_key=f"u{n}")
    outdated = make_article(title="Outdated")
    editing.mark_reviewed(outdated, staff, "7.3")
    make_article(title="Never", status="published")
    make_article(title="Draft one", status="draft")
    db.session.commit()
    queue = _queue(app)
    assert "fresh" not in queue and "draft-one" not in queue
    assert queue["old"] == ["Not reviewed for more than 180 days"]
    assert queue["unhelpful"] == ["Only 20% of 5 recent readers found it helpful"]
    assert queue["outdated"] == ["Not verified for version 8.0"]
    assert queue["never"] == ["Never reviewed", "Not verified for version 8.0"]
    # The thresholds are config: fewer required votes or a shorter age change the verdict.
    assert "unhelpful" not in _queue(app, min_votes=6)
    assert "fresh" in _queue(app, max_age_days=-1)


def test_old_votes_do_not_count_toward_a_falling_ratio(app, make_article, staff):
    article = make_article(title="Was bad")
    editing.mark_reviewed(article, staff, "8.0")
    for n in range(5):
        editing.record_feedback(article, False, "", session_key=f"o{n}")
    db.session.flush()
    for vote in db.session.scalars(select(Feedback)):
        vote.created_at = utcnow() - timedelta(days=120)
    db.session.commit()
    assert "was-bad" not in _queue(app)


def test_review_queue_page_and_marking_reviewed(client, staff, article):
    login(client, staff)
    page = client.get("/staff/articles/review").get_data(as_text=True)
    assert "Open the replication ports" in page and "Never reviewed" in page
    response = client.post(f"/articles/{article.slug}/review", data={"verified_version": "8.0", "next": "queue"})
    assert response.headers["Location"].endswith("/staff/articles/review")
    db.session.refresh(article)
    assert article.reviewed_by_id == staff.id and article.verified_version == "8.0" and article.reviewed_at
    assert "Every published article is up to date" in client.get("/staff/articles/review").get_data(as_text=True)
    assert client.post(f"/articles/{article.slug}/review", data={"verified_version": "1.0"}).status_code == 400


# --- logic used by other features -------------------------------------------------------------


def test_create_draft_for_the_forums(app, staff):
    first = editing.create_draft("How do I move a VM?", "Answer body", staff, summary="s", source_url="/threads/7")
    second = editing.create_draft("How do I move a VM?", "Another", staff)
    db.session.commit()
    assert first.slug == "how-do-i-move-a-vm" and second.slug == "how-do-i-move-a-vm-2"
    assert first.status is ArticleStatus.DRAFT and first.source_url == "/threads/7"
    assert first.html == "<p>Answer body</p>" and first.author_id == staff.id
    with app.test_request_context():
        assert first.url == "/articles/how-do-i-move-a-vm"


def test_slugify():
    assert editing.slugify("Fail back, fast!  Über-Gruppe") == "fail-back-fast-uber-gruppe"
    assert editing.slugify("x" * 300) == "x" * 120
    assert editing.slugify("!!!") == ""
