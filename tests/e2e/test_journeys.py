"""What users do, in a real browser against a real server: each journey as one story.

Pages run under the site's real Content-Security-Policy; any script error or CSP refusal fails
the journey (PageWatch), so a template with inline script or style is caught here too.
"""

from __future__ import annotations

import re
import uuid

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with how to install it
    expect = None

from tests.e2e.conftest import E2E_STATS, sign_in
from tests.e2e.pages import ARTICLE_LINK, CATEGORY_LINK, links

pytestmark = pytest.mark.e2e


def _clean(watch):
    assert not watch.errors, "the page reported errors:\n" + "\n".join(watch.errors)


def test_a_anonymous_searches_reads_an_article_and_votes(browsing, site, watch):
    """Home, search with type-ahead, an article, its table of contents, "helpful"."""
    site.require("/search", "Search")
    site.require("/articles/x", "Articles")
    page = browsing.page(fresh=True, watch=watch)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("How can we help")
    box = page.locator("#home-q")
    box.press_sequentially("replication", delay=30)
    options = page.locator(f"#{box.get_attribute('aria-controls')} [role=option]")
    expect(options.first).to_be_visible()
    assert box.get_attribute("aria-expanded") == "true"
    with page.expect_navigation():
        box.press("Enter")
    assert "/search?" in page.url and "q=replication" in page.url
    results = page.locator("ol.result-list li.result")
    expect(results.first).to_be_visible()
    article_results = results.filter(has=page.locator(".badge", has_text="Article"))
    with page.expect_navigation():
        article_results.first.locator("h3 a").click()
    assert re.search(ARTICLE_LINK, page.url), page.url
    title = page.locator("h1#article-title").inner_text()
    toc_links = page.locator("nav.toc a[href^='#']")
    if toc_links.count() == 0:
        # This article has no sections: find one that has a table of contents.
        for path in links(page, ARTICLE_LINK) or []:
            page.goto(path)
            if page.locator("nav.toc a[href^='#']").count():
                break
        toc_links = page.locator("nav.toc a[href^='#']")
    assert toc_links.count() > 0, f"no article with a table of contents reachable from {title!r}"
    target = toc_links.nth(min(2, toc_links.count() - 1))
    anchor = target.get_attribute("href")
    target.click()
    page.wait_for_function("hash => location.hash === hash", arg=anchor)
    heading = page.locator(f"[id='{anchor[1:]}']")
    expect(heading).to_be_in_viewport()
    feedback = page.locator("#feedback")
    url_before = page.url
    feedback.get_by_role("button", name="Yes", exact=True).click()
    expect(page.locator("#feedback")).to_contain_text("You answered yes")
    assert page.url == url_before  # one click, answered in place
    page.locator("#feedback textarea").fill("A screenshot of the dialog would help.")
    page.locator("#feedback").get_by_role("button", name="Send comment").click()
    expect(page.locator("#feedback")).to_contain_text("We read your comment")
    _clean(watch)
    E2E_STATS["journeys"] += 1


def test_b_customer_registers_asks_gets_an_answer_and_accepts_it(browsing, live_server, site, watch):
    """Register, log in, start a thread (suggestions while typing), staff reply, accept, solved."""
    site.require("/forums/", "Forums")
    email = f"dana-{uuid.uuid4().hex[:8]}@example.org"
    password = "a long enough passphrase"
    page = browsing.page(fresh=True, watch=watch)
    page.goto("/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill("Dana Journey")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Create|Register", re.IGNORECASE)).click()
    expect(page.locator("body")).to_contain_text("Check your inbox")
    expect(page.locator(".user-menu")).to_contain_text("Sign in")
    sign_in(page, live_server.base_url, type("A", (), {"email": email, "password": password})())
    expect(page.locator(".user-menu")).to_contain_text("Dana Journey")

    page.goto("/forums/")
    for category in links(page, CATEGORY_LINK):
        page.goto(category + "new")
        if page.get_by_label("Title").count():
            break
    else:
        pytest.fail("no forum category lets a new customer ask a question")
    title = page.get_by_label("Title")
    title.press_sequentially("Replication journal full", delay=25)
    suggestions = page.locator("#deflection-results a")
    expect(suggestions.first).to_be_visible()
    title.fill(f"Replication journal full after adding a VM {uuid.uuid4().hex[:6]}")
    page.get_by_label("Your question").fill("Since yesterday the journal fills up within an hour. Which setting should I change?")
    with page.expect_navigation():
        page.get_by_role("button", name="Post question").click()
    thread_url = page.url
    assert re.search(r"/threads/\d+", thread_url), thread_url
    thread_path = thread_url.split(live_server.base_url, 1)[1]

    staff = browsing.page("staff", watch=watch)
    staff.goto(thread_path)
    staff.locator("#reply textarea").fill(
        "Increase the journal size to 20% of the protected disks and check the **journal history** setting.")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Post reply").click()
    expect(staff.locator(".forum-post").last).to_contain_text("journal history")

    page.goto(thread_path)
    with page.expect_navigation():
        page.get_by_role("button", name="Accept this answer").click()
    expect(page.locator(".thread-status")).to_contain_text("Solved")
    expect(page.locator(".accepted-answer")).to_contain_text("Increase the journal size")
    _clean(watch)
    E2E_STATS["journeys"] += 1


def test_c_staff_edits_with_live_preview_publishes_and_compares_revisions(browsing, site, watch):
    """Edit an article with the live preview, publish it, compare two revisions."""
    site.require("/articles/new", "The article editor")
    page = browsing.page("staff", watch=watch)
    page.goto("/articles/new")
    marker = uuid.uuid4().hex[:8]
    page.get_by_label("Title").fill(f"Journey article {marker}")
    body = page.get_by_label("Body (Markdown)")
    body.fill("## First steps\n\nCheck the **appliance** first.")
    preview = page.locator("#preview")
    expect(preview.locator("strong")).to_have_text("appliance")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    expect(page.locator("h1#article-title")).to_have_text(f"Journey article {marker}")
    expect(page.locator(".staff-panel")).to_contain_text("Draft")
    slug_path = page.url.split("#")[0].split("?")[0]

    page.get_by_role("link", name="Edit").click()
    body = page.get_by_label("Body (Markdown)")
    body.fill(f"## First steps\n\nCheck the **appliance** first.\n\n## Then\n\nRestart the `replication` service {marker}.")
    expect(preview.locator("code")).to_have_text("replication")
    expect(preview.locator("h2").nth(1)).to_have_text("Then")
    page.get_by_label("Change note").fill("Add the restart step")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and publish").click()
    expect(page.locator(".staff-panel")).to_contain_text("Published")

    anonymous = browsing.page(fresh=True, watch=watch)
    assert anonymous.goto(slug_path).status == 200
    expect(anonymous.locator(".article-body")).to_contain_text(f"Restart the replication service {marker}")

    page.goto(slug_path + "/history")
    page.locator("input[name=from]").first.check()
    page.locator("input[name=to]").last.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare").click()
    diff = page.get_by_role("region", name="Differences")
    expect(diff.locator(".diff-add").first).to_be_visible()
    expect(diff).to_contain_text(f"Restart the `replication` service {marker}")
    _clean(watch)
    E2E_STATS["journeys"] += 1


def test_d_customer_opens_a_case_and_staff_see_it_in_the_queue(browsing, site, watch):
    """Severity questionnaire, open a case, response due time, comment; staff queue shows it."""
    site.require("/cases/new", "Cases")
    page = browsing.page("customer", watch=watch)
    page.goto("/severity")
    questionnaire = page.locator("form[data-severity-questionnaire]")
    fieldsets = questionnaire.locator("fieldset.case-question")
    answers = ["no", "yes", "no", "no"]  # not down, degraded, no workaround, not a question
    for index in range(fieldsets.count()):
        fieldsets.nth(index).locator(f"input[value={answers[min(index, 3)]}]").check()
    suggestion = page.locator("[data-suggestion]").first
    expect(suggestion).to_contain_text("Suggested: severity")
    suggested = re.search(r"severity (\d)", suggestion.inner_text()).group(1)

    page.goto("/cases/new")
    title = f"Replication to site B degraded {uuid.uuid4().hex[:6]}"
    page.get_by_label("Summary of the problem").fill(title)
    inline = page.locator(".case-guidance [data-severity-questionnaire] fieldset.case-question")
    for index in range(inline.count()):
        inline.nth(index).locator(f"input[value={answers[min(index, 3)]}]").check()
    chosen = page.locator("fieldset.case-severity-choice input:checked")
    expect(chosen).to_have_value(suggested)
    page.get_by_label("What happens, and what have you tried?").fill("RPO alarms on 12 VMs since the upgrade.")
    with page.expect_navigation():
        page.get_by_role("button", name="Open case").click()
    assert re.search(r"/cases/\d+", page.url), page.url
    case_path = re.search(r"/cases/\d+", page.url).group(0)
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator("dd", has_text="first response")).to_contain_text(re.compile(r"first response due .+"))
    page.get_by_label("Your comment").fill("Logs attached to the appliance bundle HS-2104.")
    with page.expect_navigation():
        page.get_by_role("button", name="Add comment").click()
    expect(page.locator("main")).to_contain_text("Logs attached to the appliance bundle HS-2104.")

    staff = browsing.page("staff", watch=watch)
    staff.goto("/staff/queue")
    row = staff.locator("tr", has=staff.locator(f"a[href='{case_path}']"))
    expect(row).to_contain_text(title)
    expect(row).to_contain_text("Acme Corp")
    _clean(watch)
    E2E_STATS["journeys"] += 1


def test_e_keyboard_only_search_and_read(browsing, site, watch):
    """Search and read an article with the keyboard alone: skip link, search box, results, article."""
    site.require("/search", "Search")
    site.require("/articles/x", "Articles")
    page = browsing.page(fresh=True, watch=watch)
    page.goto("/")
    keyboard = page.keyboard
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    keyboard.press("Enter")
    page.wait_for_function("location.hash === '#main'")
    for _ in range(30):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "home-q":
            break
    else:
        pytest.fail("Tab never reached the main search box after the skip link")
    keyboard.type("failover test", delay=20)
    page.locator("#home-q[aria-expanded=true]").wait_for()
    with page.expect_navigation():
        keyboard.press("Enter")
    assert "/search?" in page.url
    for _ in range(80):
        keyboard.press("Tab")
        href = page.evaluate("document.activeElement.closest('li.result') && document.activeElement.getAttribute('href')")
        if href and ("/articles/" in href or "%2Farticles%2F" in href):
            break
    else:
        pytest.fail("Tab never reached an article in the search results")
    with page.expect_navigation():
        keyboard.press("Enter")
    assert re.search(ARTICLE_LINK, page.url), page.url
    expect(page.locator("h1#article-title")).to_be_visible()
    # Every focusable thing on the article is reachable and shows where the focus is.
    for _ in range(15):
        keyboard.press("Tab")
        outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return s.outlineStyle !== 'none' || s.boxShadow !== 'none' || s.textDecorationLine.includes('underline'); }""")
        assert outline, f"no visible focus indicator on {page.evaluate('document.activeElement.outerHTML.slice(0, 120)')}"
    _clean(watch)
    E2E_STATS["journeys"] += 1


def test_escape_closes_the_suggestions_and_keeps_the_query(browsing, site, watch):
    """ARIA combobox pattern: Escape on an open list closes it; it must not wipe what was typed.

    Chromium clears an <input type=search> on Escape unless the page's handler calls
    preventDefault() while the suggestion list is open (static/js/suggest.js).
    """
    site.require("/search/suggest", "Search suggestions")
    page = browsing.page(fresh=True, watch=watch)
    page.goto("/")
    box = page.locator("#home-q")
    box.press_sequentially("failover", delay=20)
    page.locator("#home-q[aria-expanded=true]").wait_for()
    box.press("ArrowDown")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("failover")
    _clean(watch)
