"""Images in a real browser: the composer's script uploads at once and puts ![name](url) at the cursor."""

from __future__ import annotations

import io

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with how to install it
    expect = None

pytestmark = pytest.mark.e2e


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def test_customer_adds_a_screenshot_to_a_reply_and_it_shows(browsing, site, seeded, watch):
    site.require("/forums/images", "Images in posts", method="POST")
    assert seeded.thread_path, "no seeded thread"
    page = browsing.page("customer", watch=watch)
    page.goto(seeded.thread_path)
    body = page.locator("#reply textarea")
    body.fill("Before the image. After the image.")
    body.evaluate("area => area.setSelectionRange(17, 17)")  # the cursor after "Before the image."
    page.locator("#reply input[type=file]").set_input_files(
        files=[{"name": "replication stalled.png", "mimeType": "image/png", "buffer": _png()}])
    expect(page.locator("#reply .image-status")).to_have_text("Image added to the text.")
    text = body.input_value()
    assert text.startswith("Before the image.\n\n![replication stalled](/files/"), text
    assert text.endswith(".png)\n\n After the image."), text
    assert page.locator("#reply input[type=file]").input_value() == ""  # sending the form uploads nothing again
    with page.expect_navigation():
        page.get_by_role("button", name="Post reply").click()
    image = page.locator(".forum-post img[alt='replication stalled']").last
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 64
    assert not watch.errors, "\n".join(watch.errors)
