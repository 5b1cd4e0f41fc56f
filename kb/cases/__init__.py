"""Cases: built under its own issue."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("cases", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
