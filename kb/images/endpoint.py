"""The answer of an image upload endpoint (the article editor's and the forum composer's): JSON for the script."""

from __future__ import annotations

from flask import jsonify

from kb.errors import error_response
from kb.extensions import db
from kb.images import service
from kb.images.forms import ImageUploadForm
from kb.images.reencode import ImageRefused


def json_upload(uploader, *, daily_limit: int | None = None):
    """Store the posted image; 201 with ``{url, markdown}``, or the reason and status (400, 413, 429)."""
    form = ImageUploadForm()
    upload = form.image.data
    if upload is None or not getattr(upload, "filename", ""):
        return error_response(400, "Choose an image file (PNG, JPEG, GIF or WebP) to add.")
    try:
        service.check_daily_limit(uploader, daily_limit)
        stored = service.store_image(upload, uploader)
    except ImageRefused as exc:
        return error_response(exc.status, exc.message)
    db.session.commit()
    return jsonify({"url": service.image_url(stored), "markdown": service.image_markdown(stored)}), 201
