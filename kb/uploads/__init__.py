"""Stored files: attachments and images, their storage backends, the download view and pruning."""

from __future__ import annotations

from flask import Flask

from kb.uploads.views import bp, file_url


def init_app(app: Flask) -> None:
    from kb.hooks import register_template_helper
    from kb.uploads import request_size, settings
    from kb.uploads.service import human_size

    settings.apply(app)
    request_size.install(app)
    app.register_blueprint(bp)
    register_template_helper(app, "file_url", file_url)
    app.add_template_filter(human_size, "filesize")
