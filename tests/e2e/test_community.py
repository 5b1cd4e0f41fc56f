"""The community's first impressions in a browser: the forum front page and the case form's deflection."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with how to install it
    expect = None

pytestmark = pytest.mark.e2e


def _clean(watch):
    assert not watch.errors, "the page reported errors:\n" + "\n".join(watch.errors)


def test_case_form_suggests_articles_as_the_title_is_typed(browsing, site, watch):
    site.require("/cases/new", "Cases")
    page = browsing.page("customer", watch=watch)
    page.goto("/cases/new")
    results = page.locator("#deflection-results")
    expect(results.locator("a")).to_have_count(0)
    page.get_by_label("Summary of the problem").press_sequentially("journal history shorter", delay=20)
    suggestion = results.locator("a", has_text="Journal history shorter than configured")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_have_attribute("href", "/articles/journal-history-shorter-than-configured")
    expect(results).to_contain_text("Article")
    _clean(watch)


def test_case_form_due_time_follows_the_severity_and_the_suggestion_bar_waits(browsing, site, watch):
    site.require("/cases/new", "Cases")
    page = browsing.page("customer", watch=watch)
    page.goto("/cases/new")
    expect(page.locator(".case-form [data-suggestion]")).to_be_hidden()
    due = page.locator("[data-response-due]")
    expect(due).to_contain_text("Choose a severity")
    page.locator("fieldset.case-severity-choice input[value='1']").check()
    expect(due).to_contain_text("around the clock")
    page.locator("fieldset.case-severity-choice input[value='4']").check()
    expect(due).to_contain_text("5 business days in business hours")
    # answering the questionnaire shows the suggestion bar and moves the severity, and the due time with it
    questions = page.locator(".case-guidance fieldset.case-question")
    for index, answer in enumerate(["yes", "no", "no", "no"][: questions.count()]):
        questions.nth(index).locator(f"input[value={answer}]").check()
    expect(page.locator(".case-form [data-suggestion]")).to_be_visible()
    _clean(watch)


def test_forum_front_page_lists_latest_and_asks_with_a_category_choice(browsing, site, seeded, watch):
    site.require("/forums/new", "the forum composer")
    page = browsing.page("customer", watch=watch)
    page.goto("/forums/")
    latest = page.locator("section[aria-labelledby=latest-heading]")
    expect(latest.locator("a", has_text=seeded.thread_title)).to_be_visible()
    page.locator("a.ask-button").first.click()
    page.wait_for_url("**/forums/new")
    options = page.locator("select[name=category] option")
    texts = options.all_inner_texts()
    assert "Getting started" in texts and "Announcements" not in texts and "Staff room" not in texts
    _clean(watch)
