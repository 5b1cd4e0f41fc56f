"""Running the site: database set-up, locks, backups, metrics, logs and request ids."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from kb.ops.cli import register_commands
    from kb.ops.logs import register_request_id
    from kb.ops.metrics import register_request_metrics
    from kb.ops.static_files import register_static_caching, register_static_fingerprints
    from kb.ops.views import bp

    register_commands(app)
    register_request_id(app)
    register_request_metrics(app)
    app.register_blueprint(bp)
    register_static_fingerprints(app)
    register_static_caching(app)
