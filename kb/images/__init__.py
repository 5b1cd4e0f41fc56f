"""Images in articles and forum posts: cleaned with Pillow, stored as published files, linked from Markdown.

The article editor and the forum composer each have an upload endpoint of their own (their rules
differ: staff only, or members with a daily limit); both use ``kb.images.service``.
"""

from __future__ import annotations

from flask import Flask, current_app, request


def init_app(app: Flask) -> None:
    from kb.images import service, settings
    from kb.uploads.permissions import register_file_owner

    settings.apply(app.config)
    register_file_owner(service.OWNER_KIND, service.can_view)


def accept_images(app: Flask, *endpoints: str) -> None:
    """Let these endpoints' forms carry an image: a multipart body may be KB_IMAGE_MAX_BYTES larger."""
    from kb.uploads.request_size import accept_uploads

    for endpoint in endpoints:
        accept_uploads(app, endpoint, body_limit)


def body_limit() -> int | None:
    """KB_MAX_CONTENT_LENGTH, plus room for one image when the form is multipart (text fields stay as bounded:
    each is within Flask's MAX_FORM_MEMORY_SIZE and its own length check)."""
    config = current_app.config
    limit = config.get("MAX_CONTENT_LENGTH")
    if limit and request.mimetype == "multipart/form-data":
        return int(limit) + int(config["IMAGE_MAX_BYTES"])
    return limit
