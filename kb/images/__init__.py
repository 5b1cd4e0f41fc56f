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
    # Before the CSRF check, which is the first to read the form: the body limit must be raised by then.
    app.before_request_funcs.setdefault(None, []).insert(0, _image_body_limit)


def accept_images(app: Flask, *endpoints: str) -> None:
    """Let these endpoints' forms carry an image: a multipart body may be KB_IMAGE_MAX_BYTES larger."""
    app.extensions.setdefault("kb_image_endpoints", set()).update(endpoints)


def _image_body_limit() -> None:
    """Room for one image in a multipart form; each text field still gets no more than KB_MAX_CONTENT_LENGTH."""
    config = current_app.config
    limit = config.get("MAX_CONTENT_LENGTH")
    if (limit and request.mimetype == "multipart/form-data"
            and request.endpoint in current_app.extensions.get("kb_image_endpoints", ())):
        request.max_content_length = int(limit) + int(config["IMAGE_MAX_BYTES"])
        request.max_form_memory_size = min(int(limit), request.max_form_memory_size or int(limit))
