"""GET /files/<id>/<name>: owners decide who sees a file; downloads are safe and resumable."""

from __future__ import annotations

import io
import os

import pytest

from kb.extensions import db
from kb.uploads import file_url
from kb.uploads.service import delete_file, store_upload
from kb.uploads.views import content_disposition
from tests.conftest import login


def _upload(user, data: bytes, name: str = "bundle.zip", *, internal: bool = False, owner_kind: str = "test"):
    stored = store_upload(io.BytesIO(data), name, uploader=user, owner_kind=owner_kind, owner_id=user.id,
                          internal=internal, max_bytes=10**7)
    db.session.commit()
    return stored


def test_owner_downloads_with_safe_headers(app, client, backend, customer, test_owner):
    data = os.urandom(20_000)
    stored = _upload(customer, data)
    login(client, customer)
    response = client.get(file_url(stored))
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Length"] == "20000"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_everyone_else_gets_the_same_404(app, client, customer, other_customer, staff, test_owner):
    stored = _upload(customer, b"secret")
    assert client.get(file_url(stored)).status_code == 404  # anonymous
    for user in (other_customer, staff):  # the test owner lets only the uploader in
        login(client, user)
        client.get("/")  # takes the sign-in notice, so both pages below are alike but for the answer
        missing = client.get(f"/files/{stored.id + 100}/bundle.zip")
        response = client.get(file_url(stored))
        assert response.status_code == missing.status_code == 404
        assert response.data == missing.data
        client.post("/logout")
    login(client, customer)
    assert client.get(f"/files/{stored.id}/other-name.zip").status_code == 404


def test_unregistered_owner_kind_is_nobodys(app, client, customer, test_owner):
    stored = _upload(customer, b"data", owner_kind="nobody-registered")
    login(client, customer)
    assert client.get(file_url(stored)).status_code == 404


def test_internal_files_need_staff(app, client, customer, staff, test_owner):
    stored = _upload(customer, b"note", internal=True)
    login(client, customer)
    assert client.get(file_url(stored)).status_code == 404


def test_deleted_file_is_gone(app, client, backend, customer, staff, test_owner):
    stored = _upload(customer, b"data")
    delete_file(stored, staff)
    db.session.commit()
    login(client, customer)
    assert client.get(file_url(stored)).status_code == 404


def test_html_is_a_download_never_a_page(app, client, customer, test_owner):
    stored = _upload(customer, b"<!doctype html><script>alert(document.cookie)</script>", "report.html")
    login(client, customer)
    response = client.get(file_url(stored))
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name, head, inline", [
    ("shot.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"),
    ("shot.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 40, "image/jpeg"),
    ("anim.gif", b"GIF89a" + b"\0" * 40, "image/gif"),
    ("shot.webp", b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 40, "image/webp"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", None),
    ("fake.png", b"<html><body>not an image</body></html>", None),
    ("doc.pdf", b"%PDF-1.7\n" + b"\0" * 40, None),
])
def test_only_real_raster_images_show_inline(app, client, customer, test_owner, name, head, inline):
    stored = _upload(customer, head, name)
    login(client, customer)
    response = client.get(file_url(stored))
    disposition = response.headers["Content-Disposition"]
    if inline:
        assert disposition.startswith("inline;") and response.headers["Content-Type"] == inline
    else:
        assert disposition.startswith("attachment;")
        assert response.headers["Content-Type"] == "application/octet-stream"


def test_unicode_and_quotes_in_names_are_encoded(app, client, customer, test_owner):
    name = 'naïve "log"; x.txt'
    stored = _upload(customer, b"data", name)
    login(client, customer)
    response = client.get(file_url(stored))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"na_ve _log_; x.txt\"; filename*=UTF-8''na%C3%AFve%20%22log%22%3B%20x.txt"
    )
    assert content_disposition("attachment", "100%.log").endswith("filename*=UTF-8''100%25.log")


def test_range_requests_resume_a_download(app, client, backend, customer, test_owner):
    data = os.urandom(50_000)
    stored = _upload(customer, data)
    login(client, customer)
    url = file_url(stored)
    part = client.get(url, headers={"Range": "bytes=10000-"})
    assert part.status_code == 206
    assert part.data == data[10000:]
    assert part.headers["Content-Range"] == f"bytes 10000-49999/{len(data)}"
    assert part.headers["Content-Length"] == str(len(data) - 10000)
    middle = client.get(url, headers={"Range": "bytes=4000-8999"})
    assert middle.status_code == 206 and middle.data == data[4000:9000]
    tail = client.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.data == data[-100:]
    beyond = client.get(url, headers={"Range": "bytes=60000-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    garbled = client.get(url, headers={"Range": "lines=1-2"})
    assert garbled.status_code == 200 and garbled.data == data
    stale = client.get(url, headers={"Range": "bytes=10-", "If-Range": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.data == data
    fresh = client.get(url, headers={"Range": "bytes=10-", "If-Range": part.headers["ETag"]})
    assert fresh.status_code == 206 and fresh.data == data[10:]
