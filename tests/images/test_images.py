"""Images in forum posts and articles: upload (script and no-script), limits, who may, and what readers see."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from kb.articles.models import Article
from kb.extensions import db
from kb.forums.models import Post
from kb.markup import render_post
from kb.uploads.models import StoredFile
from tests.conftest import login
from tests.forums.conftest import age
from tests.images.conftest import GPS_IFD, jpeg_with_gps, noisy_png, png_bytes

FILES = re.compile(r"/files/(\d+)/([\w.-]+)")


@pytest.fixture
def member(client, customer, categories):
    age(customer)
    login(client, customer)
    return customer


def _upload(client, data: bytes, name: str = "screenshot.png", url: str = "/forums/images"):
    return client.post(url, data={"image": (io.BytesIO(data), name)}, headers={"Accept": "application/json"})


def _images() -> int:
    return db.session.scalar(select(func.count(StoredFile.id)).where(StoredFile.owner_kind == "image"))


def test_member_uploads_from_the_composer_script_and_anyone_sees_the_image(app, client, member):
    response = _upload(client, jpeg_with_gps(), "holiday photo.jpg")
    assert response.status_code == 201
    answer = response.get_json()
    assert re.fullmatch(r"/files/\d+/holiday-photo\.jpg", answer["url"])
    assert answer["markdown"] == f"![holiday photo]({answer['url']})"
    client.post("/logout")
    fetched = app.test_client().get(answer["url"])  # an anonymous reader
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"].startswith("inline;")
    image = Image.open(io.BytesIO(fetched.data))
    assert not image.getexif().get_ifd(GPS_IFD) and b"Phone 12 Pro" not in fetched.data


def test_a_members_reply_with_an_image_shows_it_without_script(app, client, member, make_thread, staff):
    thread = make_thread(staff)
    response = client.post(f"/threads/{thread.id}/reply", data={
        "body": "Here is the alarm I see:", "image": (io.BytesIO(png_bytes()), "alarm.png"),
    })
    assert response.status_code == 302
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(False)))
    url = FILES.search(post.body).group(0)
    assert post.body == f"Here is the alarm I see:\n\n![alarm]({url})"
    assert f'<img alt="alarm" src="{url}">' in post.body_html
    page = app.test_client().get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'src="{url}"' in page
    assert app.test_client().get(url).status_code == 200


def test_new_thread_and_edit_take_an_image_too(client, member):
    response = client.post("/forums/networking/new", data={
        "title": "MTU errors after the switch upgrade", "body": "Screenshot below.",
        "image": (io.BytesIO(png_bytes()), "mtu.png"), "action": "post",
    })
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert FILES.search(post.body)
    response = client.post(f"/posts/{post.id}/edit", data={
        "title": "MTU errors after the switch upgrade", "body": post.body, "image": (io.BytesIO(png_bytes()), "second.png"),
    })
    assert response.status_code == 302
    db.session.refresh(post)
    assert len(FILES.findall(post.body)) == 2 and "second.png" in post.body


def test_image_over_the_size_cap_is_413_and_the_text_stays(app, client, member, make_thread, staff):
    app.config["IMAGE_MAX_BYTES"] = 50_000
    data = noisy_png(200, 200)  # ~120 KB
    assert _upload(client, data).status_code == 413
    thread = make_thread(staff)
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "My long explanation stays.",
                                                                 "image": (io.BytesIO(data), "big.png")})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than the limit of 48.8 KiB" in page and "My long explanation stays." in page
    assert _images() == 0


def test_image_larger_than_the_usual_request_limit_is_accepted(app, client, member, make_thread, staff):
    data = noisy_png(1000, 800)  # ~2.4 MB, above KB_MAX_CONTENT_LENGTH (2 MiB) but below KB_IMAGE_MAX_BYTES
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    thread = make_thread(staff)
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Full-screen capture:",
                                                                 "image": (io.BytesIO(data), "full.png")})
    assert response.status_code == 302 and _images() == 1


def test_the_usual_request_limit_holds_for_a_form_without_an_image(app, client, member, make_thread, staff):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    thread = make_thread(staff)
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "x" * 20_000})
    assert response.status_code == 413
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Small text.",
                                                                 "image": (io.BytesIO(noisy_png(80, 80)), "a.png")})
    assert response.status_code == 302 and _images() == 1


@pytest.mark.parametrize("data, name", [
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "logo.svg"),
    (b"<html><script>alert(1)</script></html>", "page.png"),
    (b"MZ\x90\x00 an executable", "tool.exe"),
])
def test_non_images_are_refused_with_400(client, member, data, name):
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert "not a PNG, JPEG, GIF or WebP image" in response.get_json()["error"]["message"]
    assert _images() == 0


def test_non_image_in_the_form_keeps_the_text(client, member):
    response = client.post("/forums/networking/new", data={
        "title": "Journal alarm after failover", "body": "Everything I typed.", "action": "post",
        "image": (io.BytesIO(b"%PDF-1.7 not an image"), "report.pdf"),
    })
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Everything I typed." in page and "Journal alarm after failover" in page
    assert "not a PNG, JPEG, GIF or WebP image" in page
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_daily_limit_is_429_for_members_and_staff_have_none(app, client, member, staff):
    app.config["FORUM_IMAGE_DAILY_LIMIT"] = 2
    assert [_upload(client, png_bytes()).status_code for _ in range(2)] == [201, 201]
    refused = _upload(client, png_bytes())
    assert refused.status_code == 429
    assert "2 images in the last 24 hours" in refused.get_json()["error"]["message"]
    client.post("/logout")
    login(client, staff)
    assert [_upload(client, png_bytes()).status_code for _ in range(3)] == [201, 201, 201]


def test_images_can_be_switched_off_for_members(app, client, member, make_thread, staff):
    app.config["FORUM_IMAGES_ENABLED"] = False
    assert _upload(client, png_bytes()).status_code == 403
    thread = make_thread(staff)
    page = client.get(f"/threads/{thread.id}/reply").get_data(as_text=True)
    assert 'type="file"' not in page
    client.post("/logout")
    login(client, staff)
    assert _upload(client, png_bytes()).status_code == 201


def test_who_may_upload(app, client, customer, staff, categories):
    assert _upload(client, png_bytes()).status_code == 401
    assert _upload(client, png_bytes(), url="/articles/images").status_code in (302, 401, 403)
    login(client, customer)
    assert _upload(client, png_bytes(), url="/articles/images").status_code == 403
    app.config["UNVERIFIED_MAY_POST"] = False
    customer.email_verified_at = None
    db.session.commit()
    assert _upload(client, png_bytes()).status_code == 403
    assert _images() == 0


def test_csrf_token_is_required(app, client, member):
    app.config["WTF_CSRF_ENABLED"] = True
    response = _upload(client, png_bytes())
    assert response.status_code == 400
    assert _images() == 0


def test_staff_put_a_screenshot_in_an_article(app, client, staff):
    login(client, staff)
    response = client.post("/articles/images", data={"image": (io.BytesIO(png_bytes()), "Console view.png")},
                           headers={"Accept": "application/json"})
    assert response.status_code == 201
    markdown = response.get_json()["markdown"]
    response = client.post("/articles/new", data={
        "title": "Read the replication console", "type": "how-to", "category": "0",
        "body": f"## The console\n\n{markdown}\n", "action": "publish",
        "image": (io.BytesIO(png_bytes(color=(0, 0, 0))), "second view.png"),  # without the script, too
    })
    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    urls = [m.group(0) for m in FILES.finditer(article.body)]
    assert len(urls) == 2 and urls[1].endswith("/second-view.png")
    page = app.test_client().get(response.headers["Location"]).get_data(as_text=True)
    assert all(f'src="{url}"' in page for url in urls)


def test_editor_preview_with_an_image_keeps_it_in_the_body(client, staff):
    login(client, staff)
    response = client.post("/articles/new", data={
        "title": "Draft", "type": "how-to", "category": "0", "body": "Typed so far.", "action": "preview",
        "image": (io.BytesIO(png_bytes()), "step one.png"),
    })
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Typed so far.\n\n![step one](/files/" in page and '<img alt="step one" src="/files/' in page


def test_external_images_stay_stripped_and_the_sites_own_absolute_address_is_allowed(app):
    app.config["SITE_URL"] = "https://support.example.com"
    html = render_post(
        "![a](https://evil.example/track.gif) ![b](https://support.example.com/files/7/shot.png) "
        "![c](https://support.example.com/logout) ![d](http://support.example.com/files/7/shot.png) "
        "![e](https://support.example.com.evil.example/files/7/shot.png) ![f](/files/8/rel.png)"
    )
    assert 'src="https://support.example.com/files/7/shot.png"' in html and 'src="/files/8/rel.png"' in html
    for stripped in ("evil.example", "/logout", "http://support.example.com", "com.evil"):
        assert stripped not in html


def test_absolute_image_links_when_the_site_url_is_set(app, client, member):
    app.config["SITE_URL"] = "https://support.example.com"
    answer = _upload(client, png_bytes(), "x.png").get_json()
    assert answer["url"].startswith("https://support.example.com/files/")
    assert f'src="{answer["url"]}"' in render_post(answer["markdown"])


def test_pruning_abandoned_uploads_keeps_published_images(app, client, member, runner):
    from datetime import timedelta

    from kb.types import utcnow
    from kb.uploads.service import prune_orphans

    url = _upload(client, png_bytes()).get_json()["url"]
    later = utcnow() + timedelta(hours=int(app.config["ATTACHMENT_ORPHAN_HOURS"]) + 1)
    assert prune_orphans(now=later) == []
    db.session.commit()
    assert app.test_client().get(url).status_code == 200


def test_asking_from_any_forum_page_takes_an_image_too(client, member):
    assert 'type="file"' in client.get("/forums/new").get_data(as_text=True)
    response = client.post("/forums/new", data={
        "category": "networking", "title": "MTU errors after the switch upgrade", "body": "Screenshot below.",
        "image": (io.BytesIO(png_bytes()), "mtu.png"), "action": "post",
    })
    assert response.status_code == 302
    assert FILES.search(db.session.scalar(select(Post)).body)
