"""Images in articles and posts: take an upload, clean it, store it, and give the Markdown that shows it.

Every image goes through ``kb.images.reencode`` (Pillow) before it is stored, so what the site serves
is pixels only. Images are stored files of kind ``image``: published with the text that shows
them, so anyone may fetch them, like the uploads of a public forum.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, select

from kb.extensions import db
from kb.images.reencode import CleanImage, ImageRefused, reencode
from kb.types import utcnow
from kb.uploads.models import StoredFile
from kb.uploads.service import UploadError, human_size, store_upload
from kb.uploads.views import file_url
from kb.urls import slugify

OWNER_KIND = "image"
DAY = timedelta(hours=24)


def owner_of(uploader) -> int:
    """An image's owner is the account that put it up (0: shipped with the content).

    Never None: a file without an owner is an abandoned draft's upload, which pruning removes, while
    an image is published the moment its Markdown is in a text.
    """
    return getattr(uploader, "id", None) or 0


def can_view(user, stored: StoredFile) -> bool:
    """Images are published with the article or post that shows them: anyone may see them."""
    return True


def safe_name(filename: str, extension: str) -> str:
    """The name in the image's URL: the upload's name as a slug, with the extension of its real format.

    Markdown and URLs then need no escaping (no spaces, brackets or parentheses), and a file called
    ``photo.png`` that is really a JPEG is named ``photo.jpg``.
    """
    stem = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{slugify(stem, 60) or 'image'}.{extension}"


def read_limited(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of the stream, or ImageRefused (413) when there is more."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRefused(f"The image is larger than the limit of {human_size(max_bytes)}. "
                           "Save it smaller (or as JPEG) and try again.", 413)
    return data


def clean_image(data: bytes) -> CleanImage:
    """``data`` re-encoded without metadata, within the configured pixel limits (ImageRefused otherwise)."""
    config = current_app.config
    return reencode(data, max_pixels=int(config["IMAGE_MAX_PIXELS"]), max_side=int(config["IMAGE_MAX_SIDE"]))


def store_clean(clean: CleanImage, filename: str, uploader) -> StoredFile:
    """Store a cleaned image as a published image (the caller commits)."""
    try:
        return store_upload(io.BytesIO(clean.data), safe_name(filename, clean.extension), uploader=uploader,
                            owner_kind=OWNER_KIND, owner_id=owner_of(uploader), max_bytes=len(clean.data),
                            content_type=clean.content_type)
    except UploadError as exc:
        raise ImageRefused(exc.message, exc.status) from None


def store_image(upload, uploader) -> StoredFile:
    """Store an image sent through a form (a Werkzeug FileStorage); ImageRefused says why not."""
    data = read_limited(upload.stream, int(current_app.config["IMAGE_MAX_BYTES"]))
    return store_clean(clean_image(data), upload.filename or "image", uploader)


def existing_content_image(sha256: str) -> StoredFile | None:
    """A live image shipped with the content with these exact bytes, so importing twice stores it once."""
    return db.session.scalar(
        select(StoredFile).where(StoredFile.owner_kind == OWNER_KIND, StoredFile.owner_id == owner_of(None),
                                 StoredFile.sha256 == sha256, StoredFile.deleted_at.is_(None))
        .order_by(StoredFile.id).limit(1)
    )


def image_url(stored: StoredFile) -> str:
    """The image's address on this site: absolute on KB_SITE_URL when set (mail shows it too), else a path."""
    return file_url(stored, external=bool(current_app.config.get("SITE_URL")))


def image_markdown(stored: StoredFile) -> str:
    """``![name](url)``; the stored name is a slug, so nothing needs escaping."""
    alt = stored.filename.rsplit(".", 1)[0].replace("-", " ").replace("_", " ").strip() or "image"
    return f"![{alt}]({image_url(stored)})"


def with_image(body: str | None, markdown: str) -> str:
    """The text with an image line added at its end, in a paragraph of its own."""
    text = (body or "").rstrip()
    return f"{text}\n\n{markdown}" if text else markdown


def images_today(user) -> int:
    """Images this user stored in the last 24 hours."""
    since = utcnow() - DAY
    return db.session.scalar(
        select(func.count(StoredFile.id)).where(StoredFile.owner_kind == OWNER_KIND, StoredFile.owner_id == user.id,
                                                StoredFile.created_at >= since)
    ) or 0


def check_daily_limit(user, limit: int | None) -> None:
    """ImageRefused (429) when the user already added ``limit`` images today; None means no limit."""
    if limit is None:
        return
    if images_today(user) >= limit:
        raise ImageRefused(f"You have added {limit} images in the last 24 hours, the most one member may. "
                           "Your text is kept: post it without the image, or add the image tomorrow.", 429)


def add_form_image(form, uploader, *, daily_limit: int | None = None) -> int | None:
    """The no-script path: store the file chosen in ``form.image`` and add its Markdown to ``form.body``.

    Returns None when there was no file or it was stored; otherwise the HTTP status, with the reason
    shown on the image field (the typed text stays in the form).
    """
    upload = form.image.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        check_daily_limit(uploader, daily_limit)
        stored = store_image(upload, uploader)
    except ImageRefused as exc:
        form.image.errors = [exc.message]
        return exc.status
    db.session.flush()
    form.body.data = with_image(form.body.data, image_markdown(stored))
    return None
