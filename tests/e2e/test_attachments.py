"""Attaching files in a real browser: the drop zone with its progress bar, under the site's real CSP."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with how to install it
    expect = None

pytestmark = pytest.mark.e2e

DROP = """([name, text]) => {
  const zone = document.querySelector("[data-dropzone]");
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: "text/plain"}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
}"""


def test_customer_drops_a_log_on_a_comment_and_staff_download_it(browsing, site, seeded, watch):
    site.require("/cases/new", "Cases")
    page = browsing.page("customer", watch=watch)
    page.goto(seeded.case_path)
    zone = page.locator(".file-field.dropzone")
    expect(zone).to_be_visible()  # the script turned the plain file field into a drop zone
    page.evaluate(DROP, ["replication-e2e.log", "02:00 ERROR journal full\n" * 2000])
    expect(zone.locator(".dropzone-files")).to_contain_text("replication-e2e.log")
    page.get_by_label("Your comment").fill("Here is the replication log.")
    with page.expect_navigation():
        page.get_by_role("button", name="Add comment").click()
    files = page.locator(".case-file-table")
    expect(files).to_contain_text("replication-e2e.log")
    link = files.get_by_role("link", name="replication-e2e.log")
    href = link.get_attribute("href")

    staff = browsing.page("staff", watch=watch)
    staff.goto(seeded.case_path)
    expect(staff.locator(".case-file-table")).to_contain_text("replication-e2e.log")
    response = staff.request.get(href)
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.body() == ("02:00 ERROR journal full\n" * 2000).encode()
    assert not watch.errors, "the page reported errors:\n" + "\n".join(watch.errors)


def test_a_refused_file_keeps_the_comment(browsing, site, seeded, watch):
    site.require("/cases/new", "Cases")
    page = browsing.page("customer", watch=watch)
    page.goto(seeded.case_path)
    page.evaluate(DROP, ["empty.log", ""])
    page.get_by_label("Your comment").fill("This text must survive.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".file-field .errors")).to_contain_text("is empty")
    expect(page.get_by_label("Your comment")).to_have_value("This text must survive.")
